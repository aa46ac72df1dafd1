package issuerows_test

import (
	"testing"

	"github.com/policyresults/policyresults/repository/repotest"
)

func TestMain(m *testing.M) { repotest.Main(m) }
