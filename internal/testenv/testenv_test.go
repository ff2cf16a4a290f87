package testenv

import (
	"context"
	"os"
	"testing"

	"go.temporal.io/api/workflowservice/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

func TestTemporalServerIsSharedAndServesItsNamespace(t *testing.T) {
	first := TemporalServer(t)
	if second := TemporalServer(t); second != first {
		t.Fatal("TemporalServer started a second server")
	}
	c := TemporalClient(t)
	resp, err := c.WorkflowService().DescribeNamespace(context.Background(),
		&workflowservice.DescribeNamespaceRequest{Namespace: first.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetNamespaceInfo().GetName() != "default" {
		t.Errorf("namespace = %q, want default", resp.GetNamespaceInfo().GetName())
	}
	if first.UIURL() != "" {
		t.Errorf("tests' server runs a UI at %s", first.UIURL())
	}
}
