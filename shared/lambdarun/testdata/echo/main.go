// Command echo is a test function for the local runner: it echoes its event,
// fails on {"fail":true}, panics on {"panic":true}, exits on {"exit":true},
// and fails init when ECHO_MODE is not "plain" or "upper".
package main

import (
	"context"
	"errors"
	"os"
	"strings"

	"lakestream/shared/boot"
)

type event struct {
	Message string `json:"message"`
	Fail    bool   `json:"fail"`
	Panic   bool   `json:"panic"`
	Exit    bool   `json:"exit"`
}

func main() {
	fn := boot.New()
	mode := fn.Env.OneOf("ECHO_MODE", "plain", "plain", "upper")
	fn.Start(func(ctx context.Context, ev event) (event, error) {
		switch {
		case ev.Fail:
			return event{}, errors.New("asked to fail")
		case ev.Panic:
			panic("asked to panic")
		case ev.Exit:
			os.Exit(3)
		}
		fn.Log.InfoContext(ctx, "echo", "mode", mode)
		if mode == "upper" {
			ev.Message = strings.ToUpper(ev.Message)
		}
		return ev, nil
	})
}
