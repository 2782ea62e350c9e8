package loadgen

import (
	"os"
	"testing"
	"time"
)

func TestStatCPUCountsAfterTheCommandName(t *testing.T) {
	// A command name with spaces and a parenthesis, as /proc shows it.
	line := "4242 (aimg (x) serve) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0"
	got, err := statCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want { // (250 + 50) ticks at 100 Hz
		t.Fatalf("statCPU = %v, want %v", got, want)
	}
	if _, err := statCPU("garbage"); err == nil {
		t.Fatal("a line without a command name was read")
	}
}

func TestProcessesCPUOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if d := processesCPU([]int{os.Getpid()}); d < 0 {
		t.Fatalf("processesCPU of this process = %v", d)
	}
	if d := processesCPU(nil); d != -1 {
		t.Fatalf("processesCPU of none = %v, want -1", d)
	}
}
