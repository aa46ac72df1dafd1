package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// exportAll exports every issue once and measures rows/s and the server's
// RSS growth.
func (e *benchEnv) exportAll(ctx context.Context, pid int) (*exportResult, error) {
	before := rssMB(pid)
	w := watchRSS(pid, 20*time.Millisecond)
	start := time.Now()
	// A download without compression: the rows/s of the export itself (a
	// client asking for gzip adds the server's compression time).
	resp, err := e.raw.ExportPolicyIssuesWithBody(ctx, e.org, "application/json", strings.NewReader(`{}`),
		func(_ context.Context, r *http.Request) error {
			r.Header.Set("Accept-Encoding", "identity")
			return nil
		})
	if err != nil {
		w.Stop()
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.Stop()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, fmt.Errorf("export: %d %s", resp.StatusCode, b)
	}
	rows, err := countCSVRecords(resp.Body)
	if err != nil {
		w.Stop()
		return nil, err
	}
	elapsed := time.Since(start)
	peak := w.Stop()
	ex := &exportResult{Rows: rows - 1, Seconds: elapsed.Seconds(), RSSBefore: before, RSSMax: peak}
	ex.RowsPerSec = float64(ex.Rows) / ex.Seconds
	if peak > before {
		ex.RSSGrowth = peak - before
	}
	return ex, nil
}

// countCSVRecords counts the records of an RFC 4180 stream: line ends
// outside quoted fields. Cheaper than parsing, so the client takes little
// of the machine the server is measured on.
func countCSVRecords(r io.Reader) (int64, error) {
	buf := make([]byte, 1<<16)
	var n int64
	quoted, last := false, byte('\n')
	for {
		k, err := r.Read(buf)
		for _, c := range buf[:k] {
			switch c {
			case '"':
				quoted = !quoted
			case '\n':
				if !quoted {
					n++
				}
			}
		}
		if k > 0 {
			last = buf[k-1]
		}
		if err == io.EOF {
			if last != '\n' {
				n++
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
