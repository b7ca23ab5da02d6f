// Command minimal is the smallest useful aws-lambda-go function: it
// answers every event with the event. The start-up benchmark builds it as
// every bootstrap is built and compares the functions' init and size with
// its own.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, event json.RawMessage) (json.RawMessage, error) {
		return event, nil
	})
}
