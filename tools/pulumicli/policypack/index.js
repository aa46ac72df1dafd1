// The policy pack scripts/cli-test.sh publishes with `pulumi policy publish`:
// the CLI runs this program to read the pack's name, version (package.json)
// and policies, packs the directory with `npm pack` and uploads it.
const { PolicyPack } = require("@pulumi/policy");

new PolicyPack("cli-test-pack", {
    policies: [{
        name: "max-buckets",
        description: "Limits the S3 buckets of a stack.",
        enforcementLevel: "advisory",
        configSchema: {
            properties: { maxBuckets: { type: "integer", minimum: 1 } },
            required: ["maxBuckets"],
        },
        validateStack: (stack, reportViolation) => {
            const { maxBuckets } = stack.getConfig();
            const buckets = stack.resources.filter(r => r.type === "aws:s3/bucket:Bucket");
            if (buckets.length > maxBuckets) {
                reportViolation(`${buckets.length} buckets; at most ${maxBuckets} are allowed.`);
            }
        },
    }],
});
