package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Lambda's price and CPU share, for the cost model.
const (
	// pricePerGBSecond is AWS Lambda's duration price on arm64 in US East
	// (N. Virginia) for the first 7.5 billion GB-seconds of a month
	// (https://aws.amazon.com/lambda/pricing/).
	pricePerGBSecond = 0.0000133334
	// pricePerRequest is its request price: $0.20 per million.
	pricePerRequest = 0.20 / 1e6
	// memoryMB is the function's memory setting in the model.
	memoryMB = 128
	// fullCoreMB is the memory at which a function has the equivalent of
	// one vCPU; below it, Lambda gives a share of one in proportion
	// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
	fullCoreMB = 1769
	// eventsPerDay is the model's volume: 45 billion log events a day.
	eventsPerDay = 45e9
	// terabyte is a TB of log messages (10^12 bytes).
	terabyte = 1e12
)

// cost is what Lambda charges one implementation to process the
// CloudWatch Logs batch, from its measured time per batch on one core.
type cost struct {
	Impl         string
	CoreTime     time.Duration // per batch, one full core
	MessageBytes int64         // log messages per batch
	Events       int64         // log events per batch
}

// billedMS is the billed duration of one batch at memoryMB: the time on
// a full core stretched by the share of a core memoryMB gets, rounded up
// to the millisecond as Lambda bills.
func (c cost) billedMS() float64 {
	const perMS = memoryMB * int64(time.Millisecond) // in whole numbers: no rounding error
	return float64((int64(c.CoreTime)*fullCoreMB + perMS - 1) / perMS)
}

// gbSeconds is one batch's compute in GB-seconds.
func (c cost) gbSeconds() float64 { return memoryMB / 1024.0 * c.billedMS() / 1000 }

// dollars is the price of n batches.
func (c cost) dollars(batches float64) float64 {
	return batches * (c.gbSeconds()*pricePerGBSecond + pricePerRequest)
}

// perTB is the number of batches a TB of log messages takes.
func (c cost) perTB() float64 { return terabyte / float64(c.MessageBytes) }

// perDay is the number of batches eventsPerDay events take.
func (c cost) perDay() float64 { return eventsPerDay / float64(c.Events) }

// countEvents counts the log events of a Firehose request of CloudWatch
// Logs subscription payloads.
func countEvents(request []byte) (int64, error) {
	var req struct {
		Records []struct {
			Data []byte `json:"data"`
		} `json:"records"`
	}
	if err := json.Unmarshal(request, &req); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	var n int64
	for _, r := range req.Records {
		zr, err := gzip.NewReader(bytes.NewReader(r.Data))
		if err != nil {
			return 0, fmt.Errorf("count events: %w", err)
		}
		payload, err := io.ReadAll(zr)
		if err != nil {
			return 0, fmt.Errorf("count events: %w", err)
		}
		var d struct {
			LogEvents []json.RawMessage `json:"logEvents"`
		}
		if err := json.Unmarshal(payload, &d); err != nil {
			return 0, fmt.Errorf("count events: %w", err)
		}
		n += int64(len(d.LogEvents))
	}
	return n, nil
}

// scaleDuration is d times f.
func scaleDuration(d time.Duration, f float64) time.Duration {
	return time.Duration(float64(d) * f)
}
