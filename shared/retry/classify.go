package retry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"

	sdkretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Class is what a retry can do about an error.
type Class int

// The classes, from the hopeless to the expected.
const (
	// ClassPermanent: the same call fails the same way however often it is
	// made (access denied, no such bucket, invalid input), or the caller
	// gave up (context canceled or past its deadline).
	ClassPermanent Class = iota
	// ClassRetryable: a passing failure (a server error, a lost
	// connection, a request timeout); the same call may succeed later.
	ClassRetryable
	// ClassThrottling: the service asked the caller to slow down; the same
	// call succeeds once it backs off.
	ClassThrottling
)

func (c Class) String() string {
	switch c {
	case ClassPermanent:
		return "permanent"
	case ClassRetryable:
		return "retryable"
	case ClassThrottling:
		return "throttling"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Retries reports whether a call that failed with an error of this class is
// worth making again.
func (c Class) Retries() bool { return c == ClassRetryable || c == ClassThrottling }

// The SDK's own checks, so that lakestream's one retry layer retries what
// the SDK's retryer would have (the SDK's own retries are off, see
// awsclient): its throttling codes and bare HTTP 429s, and its retryable
// errors (connection errors, HTTP 500/502/503/504, request timeouts, clock
// skew, errors that say they are retryable).
var (
	sdkThrottles  = sdkretry.IsErrorThrottles(sdkretry.DefaultThrottles)
	sdkRetryables = sdkretry.IsErrorRetryables(sdkretry.DefaultRetryables)
)

// retryableCodes are the "try again" codes that the services lakestream
// calls document but the SDK's generic lists lack. They matter where no HTTP
// status or fault comes with the code: per-record errors of PutRecordBatch
// and PutRecords, per-partition errors of BatchCreatePartition, and S3's
// errors in the body of an HTTP 200 answer.
var retryableCodes = map[string]Class{
	"InternalFailure":             ClassRetryable, // Firehose, Kinesis per-record
	"ServiceUnavailableException": ClassRetryable, // Firehose per-record
	"InternalError":               ClassRetryable, // S3 (also inside a 200 answer)
	"ServiceUnavailable":          ClassRetryable, // S3
	"InternalServiceException":    ClassRetryable, // Glue, per-partition too
	"OperationTimeoutException":   ClassRetryable, // Glue, modelled as a client fault
	"OperationAborted":            ClassRetryable, // S3 409: a conflicting operation is in progress
	// Glue: two writers changed the same entity at once. An update that
	// names a VersionId must re-read before it tries again (the
	// glue-catalog-fixer does); other calls simply try again.
	"ConcurrentModificationException": ClassRetryable,
	"KMSThrottlingException":          ClassThrottling, // Kinesis per-record
}

// Classify says what a retry can do about err, an error returned by an AWS
// SDK v2 call (possibly wrapped) or by the caller's own code:
//
//   - marked with Permanent, or caused by a context that was canceled or
//     passed its deadline: ClassPermanent, never retried;
//   - a throttling error as the SDK knows them (ThrottlingException,
//     SlowDown, ProvisionedThroughputExceededException, an unmodelled HTTP
//     429, ...): ClassThrottling;
//   - what the SDK's retryer retries (connection reset, EOF, HTTP 5xx,
//     RequestTimeout), a service's documented "try again" code, or an AWS
//     error of the server's fault: ClassRetryable;
//   - any other AWS API error (a client fault, an HTTP 4xx): ClassPermanent;
//   - anything else (the caller's own "3 records rejected", an error
//     marked Retryable): ClassRetryable, as Do has always retried it.
//
// Classify(nil) is ClassPermanent: there is nothing to retry. Policy.Do
// uses Classify unless the Policy names its own.
func Classify(err error) Class {
	if err == nil {
		return ClassPermanent
	}
	if callerGaveUp(err) {
		return ClassPermanent
	}
	var mark marked
	if errors.As(err, &mark) {
		return mark.class
	}
	var invalid smithy.InvalidParamsError
	if errors.As(err, &invalid) {
		return ClassPermanent // the SDK refused the input before sending it
	}
	var status interface{ HTTPStatusCode() int }
	hasStatus := errors.As(err, &status)
	if sdkThrottles.IsErrorThrottle(err).Bool() || hasStatus && status.HTTPStatusCode() == http.StatusTooManyRequests {
		return ClassThrottling
	}
	var api smithy.APIError
	isAPI := errors.As(err, &api)
	if isAPI {
		if c, ok := retryableCodes[api.ErrorCode()]; ok {
			return c
		}
	}
	if sdkRetryables.IsErrorRetryable(err).Bool() {
		return ClassRetryable
	}
	if isAPI {
		if api.ErrorFault() == smithy.FaultServer {
			return ClassRetryable
		}
		return ClassPermanent
	}
	if hasStatus && status.HTTPStatusCode() >= 400 && status.HTTPStatusCode() < 500 {
		return ClassPermanent
	}
	return ClassRetryable
}

// callerGaveUp reports an error caused by the caller's context: the SDK's
// CanceledError (a context done while the request was being sent), or
// context.Canceled or DeadlineExceeded themselves. A network timeout is
// errors.Is DeadlineExceeded too (package net's "i/o timeout"), but it is
// the network's, and retryable.
func callerGaveUp(err error) bool {
	var canceled interface{ CanceledError() bool }
	if errors.As(err, &canceled) && canceled.CanceledError() {
		return true
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return false
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// ClassifyCode says what a retry can do about an AWS error code that came
// without an error value: the ErrorCode of one record of a PutRecordBatch
// or PutRecords answer, or of one partition of BatchCreatePartition. The
// code alone decides, with the lists Classify uses; an empty code (a record
// the answer left out) is ClassRetryable, an unknown one ClassPermanent.
func ClassifyCode(code string) Class {
	if code == "" {
		return ClassRetryable
	}
	return Classify(&smithy.GenericAPIError{Code: code})
}

// marked is an error whose class its caller decided.
type marked struct {
	err   error
	class Class
}

func (m marked) Error() string { return m.err.Error() }
func (m marked) Unwrap() error { return m.err }

// Permanent marks err as not worth retrying (bad input, access denied):
// Do returns it at once, unwrapped, and Classify calls it ClassPermanent.
func Permanent(err error) error { return Mark(err, ClassPermanent) }

// Retryable marks err as worth retrying although Classify alone would not
// call it so: Glue's ConcurrentRunsExceededException, a client fault that
// passes once a run ends, is one.
func Retryable(err error) error { return Mark(err, ClassRetryable) }

// Mark gives err the class its caller knows it has; Mark(nil, c) is nil.
func Mark(err error, c Class) error {
	if err == nil {
		return nil
	}
	return marked{err: err, class: c}
}
