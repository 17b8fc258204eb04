package snapshot

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// writeBenchOM writes an OpenMetrics file of about size bytes shaped like
// a SecFlow scrape history: 20 histogram families of 12 buckets over 5
// instances, 20 counter families and 10 gauge families over 20 instances
// (2,000 series), one sample every 15s. It returns the real size.
func writeBenchOM(tb testing.TB, path string, size int64) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)

	const (
		histFamilies, histInstances = 20, 5
		ctrFamilies, gaugeFamilies  = 20, 10
		instances                   = 20
		lineBytes                   = 75 // about, for sizing
	)
	les := []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}
	series := int64(histFamilies*histInstances*(len(les)+2) + (ctrFamilies+gaugeFamilies)*instances)
	samples := int(max(size/(series*lineBytes), 2))
	start := evalAt.Add(-time.Duration(samples) * 15 * time.Second).Unix()

	for fam := range histFamilies {
		name := fmt.Sprintf("secflow_stage%d_duration_seconds", fam)
		fmt.Fprintf(w, "# HELP %s Duration of stage %d.\n# TYPE %s histogram\n# UNIT %s seconds\n", name, fam, name, name)
		for inst := range histInstances {
			for bi, le := range les {
				for i := range samples {
					fmt.Fprintf(w, "%s_bucket{instance=\"worker-%d\",job=\"worker\",le=\"%s\"} %d %d\n", name, inst, le, i*(bi+1), start+int64(i)*15)
				}
			}
			for i := range samples {
				fmt.Fprintf(w, "%s_count{instance=\"worker-%d\",job=\"worker\"} %d %d\n", name, inst, i*len(les), start+int64(i)*15)
			}
			for i := range samples {
				fmt.Fprintf(w, "%s_sum{instance=\"worker-%d\",job=\"worker\"} %g %d\n", name, inst, float64(i)*1.5, start+int64(i)*15)
			}
		}
	}
	for fam := range ctrFamilies {
		name := fmt.Sprintf("secflow_events%d", fam)
		fmt.Fprintf(w, "# HELP %s Events.\n# TYPE %s counter\n", name, name)
		for inst := range instances {
			for i := range samples {
				fmt.Fprintf(w, "%s_total{instance=\"api-%d\",job=\"api\"} %d %d\n", name, inst, i*(inst+1), start+int64(i)*15)
			}
		}
	}
	for fam := range gaugeFamilies {
		name := fmt.Sprintf("secflow_depth%d", fam)
		fmt.Fprintf(w, "# TYPE %s gauge\n", name)
		for inst := range instances {
			for i := range samples {
				fmt.Fprintf(w, "%s{instance=\"api-%d\",job=\"api\"} %d %d\n", name, inst, (i*7+inst)%100, start+int64(i)*15)
			}
		}
	}
	fmt.Fprint(w, "# EOF\n")
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// heapPeak samples the live heap until stopped; ReadMemStats is cheap
// enough at this rate not to show in the throughput.
type heapPeak struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func watchHeap() *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > h.peak.Load() {
				h.peak.Store(ms.HeapAlloc)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) done() uint64 {
	close(h.stop)
	h.wg.Wait()
	return h.peak.Load()
}

// BenchmarkLoad measures loading a generated .om of SECFLOW_BENCH_OM_MB
// megabytes (default 10) and one query over it. Reported: MB/s of
// OpenMetrics text loaded and the peak live heap during the load.
func BenchmarkLoad(b *testing.B) {
	mb := int64(10)
	if v := os.Getenv("SECFLOW_BENCH_OM_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("SECFLOW_BENCH_OM_MB=%q: want a positive number", v)
		}
		mb = n
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(testManifest), 0o644); err != nil {
		b.Fatal(err)
	}
	size := writeBenchOM(b, filepath.Join(dir, "metrics.om"), mb*1e6)

	b.SetBytes(size)
	b.ReportAllocs()
	var peak uint64
	var loadTime time.Duration
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		h := watchHeap()
		start := time.Now()
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		q, err := s.PromQL(context.Background())
		if err != nil {
			s.Close()
			b.Fatal(err)
		}
		loadTime += time.Since(start)
		v, err := q.Query(context.Background(), `count({__name__=~"secflow_.+"})`, evalAt)
		peak = max(peak, h.done())
		if cerr := s.Close(); cerr != nil {
			b.Fatal(cerr)
		}
		if err != nil || len(v) != 1 || v[0].Value != 2000 {
			b.Fatalf("count: %v %v", v, err)
		}
	}
	b.ReportMetric(float64(size)/1e6/(loadTime.Seconds()/float64(b.N)), "load-MB/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(size)/1e6, "file-MB")
}
