package repotest

import (
	"fmt"
	"sync/atomic"
	"time"
)

var seq atomic.Int64

// UniqueName is prefix followed by a suffix no other call in the test run
// gives, for names that must not collide in a database tests share.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, seq.Add(1))
}
