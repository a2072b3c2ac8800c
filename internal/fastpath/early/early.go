// Package early answers a cached `oat token` (no flag but --profile) from its
// init, before Go initialises the packages the rest of oat needs (see package
// fastpath). Only cmd/oat imports it: its init exits the process when it
// answered.
package early

import (
	"fmt"
	"os"
	"time"

	"github.com/oatcli/oat/internal/fastpath"
	"github.com/oatcli/oat/internal/termsafe"
)

func init() {
	answered, err := fastpath.Answer(os.Args[1:], os.Environ(), os.Stdout, time.Now())
	if !answered {
		return
	}
	if err != nil {
		// As the full path reports a failed write (cli.Run: exit 1).
		fmt.Fprintf(os.Stderr, "oat: %s\n", termsafe.Line(err.Error()))
		os.Exit(1)
	}
	os.Exit(0)
}
