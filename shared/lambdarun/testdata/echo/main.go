// Command echo is a test function for the local runner: it echoes its event,
// fails on {"fail":true}, panics on {"panic":true}, exits on {"exit":true},
// hangs for {"sleep":"<duration>"} (ignoring its deadline, as a stuck
// function does), reports the time its deadline leaves on
// {"deadline":true}, traces a call named by {"trace":"<name>"} (one that
// fails when the name starts with "fail") as AWS SDK calls are traced,
// reports the variables {"getenv":[...]} names, and
// fails init when ECHO_MODE is not "plain" or "upper".
package main

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-xray-sdk-go/xray"

	"lakestream/shared/boot"
)

type event struct {
	Message string `json:"message"`
	Fail    bool   `json:"fail"`
	Panic   bool   `json:"panic"`
	Exit    bool   `json:"exit"`
	Sleep   string `json:"sleep,omitempty"`
	// Deadline asks for LeftS: the seconds left before the deadline.
	Deadline bool    `json:"deadline,omitempty"`
	LeftS    float64 `json:"left_s,omitempty"`
	Trace    string  `json:"trace,omitempty"`
	// Getenv asks for the values of these variables, in Env.
	Getenv []string          `json:"getenv,omitempty"`
	Env    map[string]string `json:"env,omitempty"`
}

func main() {
	fn := boot.New()
	mode := fn.Env.OneOf("ECHO_MODE", "plain", "plain", "upper")
	fn.Start(lambda.NewHandler(func(ctx context.Context, ev event) (event, error) {
		switch {
		case ev.Fail:
			return event{}, errors.New("asked to fail")
		case ev.Panic:
			panic("asked to panic")
		case ev.Exit:
			os.Exit(3)
		case ev.Sleep != "":
			d, err := time.ParseDuration(ev.Sleep)
			if err != nil {
				return event{}, err
			}
			time.Sleep(d)
		case ev.Trace != "":
			xray.Capture(ctx, ev.Trace, func(context.Context) error { //nolint:errcheck // traced, not handled.
				if strings.HasPrefix(ev.Trace, "fail") {
					return errors.New("asked to fail " + ev.Trace)
				}
				return nil
			})
		case len(ev.Getenv) > 0:
			ev.Env = map[string]string{}
			for _, name := range ev.Getenv {
				ev.Env[name] = os.Getenv(name)
			}
		case ev.Deadline:
			deadline, _ := ctx.Deadline()
			ev.LeftS = math.Round(time.Until(deadline).Seconds())
		}
		fn.Log.InfoContext(ctx, "echo", "mode", mode)
		if mode == "upper" {
			ev.Message = strings.ToUpper(ev.Message)
		}
		return ev, nil
	}))
}
