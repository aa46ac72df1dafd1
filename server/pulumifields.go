package server

import (
	"errors"
	"fmt"
	"strings"

	"github.com/policyresults/policyresults/repository"
)

// The evaluation fields Pulumi's results operations take from their paths,
// by the path parameter that carries each.
var (
	stackPathFields   = map[string]string{"stack.project": "projectName", "stack.name": "stackName", "stack.version": "version"}
	accountPathFields = map[string]string{"account.name": "accountName", "account.version": "resourceVersion", "scope": "resourceTypeAndId"}
)

// pulumiFieldError renames the field a validation error of an evaluation
// built from Pulumi's results (pulumiEvaluation) names to the field of the
// request the client sent: a path parameter, or a member of
// results.violations (the evaluation's policyPacks[i] come from violation
// packFrom[i]). Other errors are returned as they are.
func pulumiFieldError(err error, pathFields map[string]string, packFrom []int) error {
	var ve *repository.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	field := ve.Field
	var i int
	var rest string
	switch {
	case pathFields[field] != "":
		field = pathFields[field]
	case strings.HasPrefix(field, "violations["):
		field = "results." + field
		if f, ok := strings.CutSuffix(field, ".policyPack"); ok {
			field = f + ".policyPackName"
		}
	case strings.HasPrefix(field, "policyPacks["):
		if n, _ := fmt.Sscanf(field, "policyPacks[%d]%s", &i, &rest); n == 2 && i < len(packFrom) {
			switch rest {
			case ".name":
				field = fmt.Sprintf("results.violations[%d].policyPackName", packFrom[i])
			case ".versionTag":
				field = fmt.Sprintf("results.violations[%d].policyPackVersion", packFrom[i])
			}
		}
	}
	return &repository.ValidationError{Field: field, Message: ve.Message}
}
