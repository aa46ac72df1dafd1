package demo

import (
	"github.com/policyresults/policyresults/model"
)

// policy is a demo policy and the resource types it governs.
type catalogPolicy struct {
	name, description, severity, level string
	types                              []string
	remediation                        string
	control                            string
}

// pack is a demo policy pack modelled on Pulumi's compliance-ready policies.
type pack struct {
	name, displayName, tag, description string
	framework                           model.Framework
	policies                            []catalogPolicy
}

// Resource types of the demo entities, by cloud.
var (
	awsTypes   = []string{"aws:s3/bucket:Bucket", "aws:ec2/instance:Instance", "aws:ec2/securityGroup:SecurityGroup", "aws:rds/instance:Instance", "aws:lambda/function:Function", "aws:iam/role:Role", "aws:kms/key:Key", "aws:dynamodb/table:Table", "aws:lb/listener:Listener", "aws:ebs/volume:Volume"}
	azureTypes = []string{"azure-native:storage:StorageAccount", "azure-native:sql:Server", "azure-native:keyvault:Vault", "azure-native:compute:VirtualMachine", "azure-native:network:NetworkSecurityGroup", "azure-native:web:WebApp"}
	k8sTypes   = []string{"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:core/v1:Service", "kubernetes:batch/v1:CronJob"}
)

var catalog = []pack{
	{
		name: "aws-cis-benchmark", displayName: "AWS CIS Foundations Benchmark", tag: "1.5.0",
		description: "CIS Amazon Web Services Foundations Benchmark controls for Pulumi programs.",
		framework:   model.Framework{Name: "CIS AWS Foundations Benchmark", Version: "1.5.0", Specification: "https://www.cisecurity.org/benchmark/amazon_web_services"},
		policies: []catalogPolicy{
			{name: "s3-bucket-public-read-prohibited", description: "S3 buckets must not allow public read access.", severity: "high", level: "mandatory", types: []string{"aws:s3/bucket:Bucket"}, control: "2.1.5", remediation: "Enable the bucket's public access block and remove public ACL grants."},
			{name: "s3-bucket-server-side-encryption", description: "S3 buckets must encrypt objects at rest.", severity: "medium", level: "advisory", types: []string{"aws:s3/bucket:Bucket"}, control: "2.1.1", remediation: "Set serverSideEncryptionConfiguration with aws:kms or AES256."},
			{name: "s3-bucket-versioning-enabled", description: "S3 buckets should keep object versions.", severity: "low", level: "advisory", types: []string{"aws:s3/bucket:Bucket"}, control: "2.1.3", remediation: "Enable versioning on the bucket."},
			{name: "ec2-instance-no-public-ip", description: "EC2 instances must not have public IP addresses.", severity: "high", level: "mandatory", types: []string{"aws:ec2/instance:Instance"}, control: "5.6", remediation: "Set associatePublicIpAddress to false and reach instances through a load balancer or bastion."},
			{name: "security-group-no-ssh-from-anywhere", description: "Security groups must not allow SSH from 0.0.0.0/0.", severity: "critical", level: "mandatory", types: []string{"aws:ec2/securityGroup:SecurityGroup"}, control: "5.2", remediation: "Restrict port 22 ingress to known CIDR ranges or use SSM Session Manager."},
			{name: "iam-role-no-admin-access", description: "IAM roles must not grant *:* administrative access.", severity: "critical", level: "mandatory", types: []string{"aws:iam/role:Role"}, control: "1.16", remediation: "Replace AdministratorAccess with least-privilege policies."},
			{name: "rds-storage-encrypted", description: "RDS instances must encrypt storage.", severity: "medium", level: "mandatory", types: []string{"aws:rds/instance:Instance"}, control: "2.3.1", remediation: "Set storageEncrypted to true (requires a snapshot restore for existing instances)."},
			{name: "ebs-volume-encrypted", description: "EBS volumes must be encrypted.", severity: "medium", level: "advisory", types: []string{"aws:ebs/volume:Volume", "aws:ec2/instance:Instance"}, control: "2.2.1", remediation: "Enable EBS encryption by default for the region."},
			{name: "kms-key-rotation-enabled", description: "Customer managed KMS keys should rotate yearly.", severity: "low", level: "advisory", types: []string{"aws:kms/key:Key"}, control: "3.8", remediation: "Set enableKeyRotation to true."},
		},
	},
	{
		name: "aws-pci-dss", displayName: "AWS PCI DSS", tag: "4.0.1",
		description: "PCI DSS 4.0 requirements for cardholder data environments on AWS.",
		framework:   model.Framework{Name: "PCI DSS", Version: "4.0", Specification: "https://www.pcisecuritystandards.org/"},
		policies: []catalogPolicy{
			{name: "rds-instance-public-access-check", description: "RDS instances must not be publicly accessible.", severity: "critical", level: "mandatory", types: []string{"aws:rds/instance:Instance"}, control: "1.3.1", remediation: "Set publiclyAccessible to false."},
			{name: "elb-tls-https-listeners-only", description: "Load balancer listeners must use TLS.", severity: "high", level: "mandatory", types: []string{"aws:lb/listener:Listener"}, control: "4.2.1", remediation: "Use HTTPS or TLS listeners with a modern security policy."},
			{name: "lambda-function-public-access-prohibited", description: "Lambda functions must not be invokable by anyone.", severity: "high", level: "mandatory", types: []string{"aws:lambda/function:Function"}, control: "7.2.1", remediation: "Remove resource policies granting lambda:InvokeFunction to *."},
			{name: "dynamodb-pitr-enabled", description: "DynamoDB tables should have point-in-time recovery.", severity: "low", level: "advisory", types: []string{"aws:dynamodb/table:Table"}, control: "12.10.1", remediation: "Enable pointInTimeRecovery."},
			{name: "cloudtrail-log-file-validation", description: "Trails must validate log files.", severity: "medium", level: "advisory", types: []string{"aws:s3/bucket:Bucket"}, control: "10.3.2", remediation: "Set enableLogFileValidation on the trail writing to this bucket."},
		},
	},
	{
		name: "azure-iso-27001", displayName: "Azure ISO 27001", tag: "2.1.0",
		description: "ISO/IEC 27001:2022 Annex A controls for Azure.",
		framework:   model.Framework{Name: "ISO/IEC 27001", Version: "2022", Specification: "https://www.iso.org/standard/27001"},
		policies: []catalogPolicy{
			{name: "storage-account-secure-transfer", description: "Storage accounts must require HTTPS.", severity: "high", level: "mandatory", types: []string{"azure-native:storage:StorageAccount"}, control: "A.8.24", remediation: "Set enableHttpsTrafficOnly to true."},
			{name: "sql-server-auditing-enabled", description: "SQL servers should audit database events.", severity: "medium", level: "advisory", types: []string{"azure-native:sql:Server"}, control: "A.8.15", remediation: "Configure server auditing to a Log Analytics workspace."},
			{name: "keyvault-soft-delete-enabled", description: "Key vaults must keep deleted secrets recoverable.", severity: "medium", level: "mandatory", types: []string{"azure-native:keyvault:Vault"}, control: "A.8.13", remediation: "Enable soft delete and purge protection."},
			{name: "vm-disk-encryption", description: "Virtual machine disks must be encrypted.", severity: "high", level: "mandatory", types: []string{"azure-native:compute:VirtualMachine"}, control: "A.8.24", remediation: "Enable Azure Disk Encryption or encryption at host."},
			{name: "nsg-no-rdp-from-internet", description: "Network security groups must not allow RDP from the internet.", severity: "critical", level: "mandatory", types: []string{"azure-native:network:NetworkSecurityGroup"}, control: "A.8.20", remediation: "Remove inbound rules for port 3389 from Internet or *."},
			{name: "app-service-https-only", description: "Web apps should redirect HTTP to HTTPS.", severity: "low", level: "advisory", types: []string{"azure-native:web:WebApp"}, control: "A.8.24", remediation: "Set httpsOnly to true."},
		},
	},
	{
		name: "kubernetes-cis", displayName: "Kubernetes CIS Benchmark", tag: "1.8.0",
		description: "CIS Kubernetes Benchmark workload policies.",
		framework:   model.Framework{Name: "CIS Kubernetes Benchmark", Version: "1.8.0", Specification: "https://www.cisecurity.org/benchmark/kubernetes"},
		policies: []catalogPolicy{
			{name: "no-privileged-containers", description: "Containers must not run privileged.", severity: "critical", level: "mandatory", types: []string{"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:CronJob"}, control: "5.2.2", remediation: "Remove securityContext.privileged."},
			{name: "run-as-non-root", description: "Containers should not run as root.", severity: "high", level: "mandatory", types: []string{"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"}, control: "5.2.7", remediation: "Set securityContext.runAsNonRoot to true."},
			{name: "require-resource-limits", description: "Containers should declare CPU and memory limits.", severity: "medium", level: "advisory", types: []string{"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:CronJob"}, control: "5.7.4", remediation: "Set resources.limits on every container."},
			{name: "no-latest-image-tag", description: "Images should be pinned, not :latest.", severity: "low", level: "advisory", types: []string{"kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:CronJob"}, control: "5.5.1", remediation: "Pin images by tag or digest."},
			{name: "no-load-balancer-without-source-ranges", description: "LoadBalancer services should restrict source ranges.", severity: "high", level: "advisory", types: []string{"kubernetes:core/v1:Service"}, control: "5.3.2", remediation: "Set loadBalancerSourceRanges."},
			{name: "require-team-label", description: "Workloads should carry a team label.", severity: "", level: "advisory", types: []string{"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:core/v1:Service"}, remediation: "Add metadata.labels.team."},
		},
	},
}

// packByName finds a catalog pack.
func packByName(name string) *pack {
	for i := range catalog {
		if catalog[i].name == name {
			return &catalog[i]
		}
	}
	return nil
}

// stackTemplate is a demo stack with the cloud it deploys to.
type stackTemplate struct {
	project, stack, cloud string
}

var stackTemplates = []stackTemplate{
	{"payments", "prod", "aws"}, {"payments", "staging", "aws"}, {"web", "prod", "aws"}, {"web", "staging", "aws"},
	{"data-platform", "prod", "aws"}, {"data-platform", "dev", "aws"}, {"k8s-platform", "prod", "kubernetes"},
	{"k8s-platform", "staging", "kubernetes"}, {"identity", "prod", "azure"}, {"analytics", "prod", "azure"},
}

var accountTemplates = []struct{ name, cloud string }{
	{"aws-prod-123456789012", "aws"}, {"aws-dev-210987654321", "aws"}, {"azure-prod-subscription", "azure"},
}

var projectWords = []string{"billing", "search", "checkout", "catalog", "ledger", "notifications", "gateway", "reports", "inventory", "auth", "media", "events"}
var stackWords = []string{"prod", "staging", "dev", "qa"}
var nameWords = []string{"orders", "users", "assets", "logs", "cache", "api", "worker", "ingest", "backup", "static", "queue", "index"}
