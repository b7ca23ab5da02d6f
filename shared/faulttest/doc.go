// Package faulttest is lakestream's standing fault-injection test, run by
// `make test`: the real function binaries run under the local Runtime API
// against moto_server behind shared/faultproxy, which throttles 30% of the
// AWS calls, fails 5% with HTTP 500 and drops the response of 5% after the
// call took effect, from a fixed seed. For every AWS-calling function (and
// the replay command's Firehose replay) the
// test counts what went in and what became of it: delivered, or reported
// failed (a batch item failure, ProcessingFailed, an invocation error the
// trigger retries and finally dead-letters, a bad line in its file's error
// object), with duplicates counted and
// nothing lost. The package holds no code of its own: the test is its
// content, and the README's Reliability section its figures.
package faulttest
