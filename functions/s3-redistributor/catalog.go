package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"lakestream/shared/retry"
)

// catalog is the part of the Glue API the redistributor calls.
type catalog interface {
	GetTable(ctx context.Context, in *glue.GetTableInput, optFns ...func(*glue.Options)) (*glue.GetTableOutput, error)
	BatchCreatePartition(ctx context.Context, in *glue.BatchCreatePartitionInput, optFns ...func(*glue.Options)) (*glue.BatchCreatePartitionOutput, error)
}

// maxPartitionsPerCall is BatchCreatePartition's limit on PartitionInputList.
const maxPartitionsPerCall = 100

// codeAlreadyExists is the per-partition error of a partition that is
// there: for an idempotent writer, success.
const codeAlreadyExists = "AlreadyExistsException"

// ErrLayoutMismatch means a destination layout's partitions do not fit its
// Glue table's partition keys.
var ErrLayoutMismatch = errors.New("layout does not match the table's partition keys")

// partitionWant is one partition an object's copy needs registered.
type partitionWant struct {
	Table    string
	Values   []string
	Location string
	// keys are the layout's partition key names (nil for a plain layout),
	// checked against the table's.
	keys   []string
	layout string
}

// registration is what registering an invocation's partitions did.
type registration struct {
	Created, Existing int
	// Failed holds, by index into the wants, why a partition was not
	// registered.
	Failed map[int]error
}

// registrar registers partitions in one Glue database. It reads each table
// once per invocation (it is built anew for each), so a table changed
// between invocations is seen at the next one.
type registrar struct {
	glue   catalog
	db     string
	policy retry.Policy
	tables map[string]tableResult
}

type tableResult struct {
	table *types.Table
	err   error
}

func newRegistrar(c catalog, db string, policy retry.Policy) *registrar {
	return &registrar{glue: c, db: db, policy: policy, tables: map[string]tableResult{}}
}

// register creates the wanted partitions, each distinct one once, with the
// table's storage descriptor and the partition's own location, in calls of
// at most 100. A partition that already exists counts as registered.
func (r *registrar) register(ctx context.Context, wants []partitionWant) registration {
	res := registration{Failed: map[int]error{}}
	byTable := map[string][]int{}
	var order []string
	for i, w := range wants {
		if _, seen := byTable[w.Table]; !seen {
			order = append(order, w.Table)
		}
		byTable[w.Table] = append(byTable[w.Table], i)
	}
	for _, table := range order {
		r.registerTable(ctx, table, wants, byTable[table], &res)
	}
	return res
}

// pending is one distinct partition of a table and the wants that need it.
type pending struct {
	input types.PartitionInput
	wants []int
}

func (r *registrar) registerTable(ctx context.Context, table string, wants []partitionWant, idx []int, res *registration) {
	t, err := r.table(ctx, table)
	if err != nil {
		for _, i := range idx {
			res.Failed[i] = err
		}
		return
	}
	var parts []*pending
	byValues := map[string]*pending{}
	for _, i := range idx {
		w := wants[i]
		if err := checkLayout(r.db, t, w); err != nil {
			res.Failed[i] = err
			continue
		}
		id := strings.Join(w.Values, "\x00")
		if p, ok := byValues[id]; ok {
			if aws.ToString(p.input.StorageDescriptor.Location) != w.Location {
				res.Failed[i] = fmt.Errorf("partition %v of %s.%s would be at both %s and %s: a partition has one location, so give each its own table",
					w.Values, r.db, table, aws.ToString(p.input.StorageDescriptor.Location), w.Location)
				continue
			}
			p.wants = append(p.wants, i)
			continue
		}
		p := &pending{input: partitionInput(t, w), wants: []int{i}}
		byValues[id] = p
		parts = append(parts, p)
	}
	for chunk := range slices.Chunk(parts, maxPartitionsPerCall) {
		r.createChunk(ctx, table, chunk, res)
	}
}

// table returns the table, reading it at most once per invocation.
func (r *registrar) table(ctx context.Context, name string) (*types.Table, error) {
	if t, ok := r.tables[name]; ok {
		return t.table, t.err
	}
	var t *types.Table
	err := r.policy.Do(ctx, func(int) error {
		out, err := r.glue.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(r.db), Name: aws.String(name)})
		if err != nil {
			return err
		}
		t = out.Table
		return nil
	})
	switch {
	case err != nil:
		err = fmt.Errorf("get table %s.%s: %w", r.db, name, err)
	case t == nil || t.StorageDescriptor == nil:
		err = fmt.Errorf("table %s.%s has no storage descriptor to give its partitions", r.db, name)
	}
	r.tables[name] = tableResult{t, err}
	return t, err
}

// checkLayout checks that a layout's partitions are the table's partition
// keys: as many, and with the same names when the layout names them
// (BatchCreatePartition matches values to keys by position alone).
func checkLayout(db string, t *types.Table, w partitionWant) error {
	keys := make([]string, len(t.PartitionKeys))
	for i, k := range t.PartitionKeys {
		keys[i] = strings.ToLower(aws.ToString(k.Name))
	}
	switch {
	case len(keys) != len(w.Values):
		return fmt.Errorf("%w: %s has %d partition folders, table %s.%s has %d partition keys (%s)",
			ErrLayoutMismatch, w.layout, len(w.Values), db, aws.ToString(t.Name), len(keys), strings.Join(keys, ", "))
	case w.keys != nil && !slices.Equal(w.keys, keys):
		return fmt.Errorf("%w: %s partitions by (%s), table %s.%s by (%s)",
			ErrLayoutMismatch, w.layout, strings.Join(w.keys, ", "), db, aws.ToString(t.Name), strings.Join(keys, ", "))
	}
	return nil
}

// partitionInput is the partition as the table stores its data (format,
// SerDe, columns) at the partition's own location.
func partitionInput(t *types.Table, w partitionWant) types.PartitionInput {
	sd := *t.StorageDescriptor
	sd.Location = aws.String(w.Location)
	return types.PartitionInput{Values: slices.Clone(w.Values), StorageDescriptor: &sd}
}

// createChunk creates up to 100 partitions, retrying the call and the
// partitions Glue could not create for a passing reason.
func (r *registrar) createChunk(ctx context.Context, table string, chunk []*pending, res *registration) {
	left := chunk
	var lastErr map[*pending]error
	err := r.policy.Do(ctx, func(int) error {
		lastErr = map[*pending]error{}
		inputs := make([]types.PartitionInput, len(left))
		for i, p := range left {
			inputs[i] = p.input
		}
		out, err := r.glue.BatchCreatePartition(ctx, &glue.BatchCreatePartitionInput{
			DatabaseName: aws.String(r.db), TableName: aws.String(table), PartitionInputList: inputs,
		})
		if err != nil {
			return err
		}
		failed := map[string]types.PartitionError{}
		for _, e := range out.Errors {
			failed[strings.Join(e.PartitionValues, "\x00")] = e
		}
		var retryable []*pending
		for _, p := range left {
			e, ok := failed[strings.Join(p.input.Values, "\x00")]
			code, msg := "", ""
			if ok && e.ErrorDetail != nil {
				code, msg = aws.ToString(e.ErrorDetail.ErrorCode), aws.ToString(e.ErrorDetail.ErrorMessage)
			}
			switch {
			case !ok:
				res.Created++
			case code == codeAlreadyExists:
				res.Existing++
			default:
				perr := fmt.Errorf("create partition %v of %s.%s: %s: %s", p.input.Values, r.db, table, code, msg)
				if retry.ClassifyCode(code).Retries() {
					retryable = append(retryable, p)
					lastErr[p] = perr
				} else {
					for _, i := range p.wants {
						res.Failed[i] = perr
					}
				}
			}
		}
		left = retryable
		if len(left) > 0 {
			return fmt.Errorf("%d partitions of %s.%s not created yet", len(left), r.db, table)
		}
		return nil
	})
	if err == nil {
		return
	}
	for _, p := range left {
		perr := lastErr[p]
		if perr == nil {
			perr = fmt.Errorf("create partitions of %s.%s: %w", r.db, table, err)
		}
		for _, i := range p.wants {
			res.Failed[i] = perr
		}
	}
}
