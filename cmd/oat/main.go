// Command oat gets, keeps, renews, inspects and revokes OAuth 2.0 and OpenID
// Connect tokens. All the work is in internal/cli; main only maps to exit codes.
package main

import (
	"context"
	"os"

	"github.com/oatcli/oat/internal/cli"
	// A cached `oat token` (no flag but --profile) is answered here, before the
	// packages the rest of oat needs are initialised (internal/fastpath).
	_ "github.com/oatcli/oat/internal/fastpath/early"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
