// Package specgen draws JSON values from the kin-openapi schemas of an
// OpenAPI 3.0 document, valid ones and invalid mutations of them, for
// property-based tests with pgregory.net/rapid (which shrinks a failing
// value and replays it from a seed).
//
// No Go library generates values from kin-openapi's schema objects for
// rapid (Schemathesis does it for Python with Hypothesis), so this package
// does: it is small, and every value it draws is checked against the schema
// with kin-openapi's own validator (VisitJSON), the one the server uses, so
// a generator bug shows as a test failure, never as a silently invalid
// "valid" request.
//
// Coverage of the schema language, valid values (Gen.Draw):
//   - types string, integer, number, boolean, object, array, and untyped
//     schemas (any JSON scalar); nullable (null one time in eight);
//   - enum (one of the listed values);
//   - string formats date-time, date, uuid, email, byte, binary; pattern
//     (rapid.StringMatching); minLength, maxLength;
//   - integer and number minimum, maximum, exclusiveMinimum and
//     exclusiveMaximum (OpenAPI 3.0 booleans), multipleOf;
//   - arrays: items, minItems, maxItems, uniqueItems;
//   - objects: properties, required (always present), optional members
//     (each present or not), additionalProperties (true, a schema, or
//     false), minProperties;
//   - allOf (members of every part merged, the value checked against all),
//     oneOf (one branch; the value must match exactly one) and anyOf (one
//     branch);
//   - $ref (resolved by kin-openapi's loader), recursion bounded by
//     MaxDepth (beyond it only required members and minItems items);
//   - example: an object's or an array's example, drawn whole now and
//     then (ExamplePercent), as Schemathesis's explicit examples.
//
// Hints give values for properties by name ("colId") or by schema and name
// ("AngularGridColumn.aggFunc"), so that requests also carry values that
// mean something to the server (real names and ids, column names); a hint
// is used half of the time (HintPercent) and only when its value is valid
// for the schema. OneMemberOf draws exactly one of a set of members, for a
// rule the schema states only in words.
//
// Invalid values (Mutate): a value of a type the location does not allow,
// a string outside an enum, a required member removed, a string longer or
// a list longer than a limit, a malformed date-time, a string its pattern
// refuses, a number beyond minimum or maximum. Every mutation is checked to make the whole value
// invalid for the schema (or, for the size limits the schema does not
// state, to exceed the limit given). BreakJSON corrupts JSON text.
//
// Not covered: not, discriminator mappings, readOnly/writeOnly filtering,
// maxProperties, and OpenAPI 3.1 keywords (const, prefixItems, if/then/else,
// patternProperties): the specification is OpenAPI 3.0.3 and uses none.
// Draw fails the test when a schema uses not or a discriminator, so a
// specification change that needs them is noticed.
//
// Chances (null one time in eight, HintPercent, ExamplePercent) are drawn
// with Uniform, OneIn and Percent, which are even: rapid's integer
// generators favour small values, so a comparison such as
// rapid.IntRange(0, 99) < 20 holds about half of the time.
package specgen
