package main

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"lakestream/shared/hivetype"
)

// Where a fixed column sits in a table.
const (
	InColumns       = "columns"
	InPartitionKeys = "partitionKeys"
)

// Change is one column type the fixer rewrote.
type Change struct {
	Column string `json:"column"`
	In     string `json:"in"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// ColumnError is a column whose type cannot be read: the table is left as
// it is, because a fix that skipped the column could hide it.
type ColumnError struct {
	Column string
	In     string
	Err    error
}

func (e *ColumnError) Error() string {
	if e.In == InPartitionKeys {
		return fmt.Sprintf("partition key %q: %v", e.Column, e.Err)
	}
	return fmt.Sprintf("column %q: %v", e.Column, e.Err)
}

func (e *ColumnError) Unwrap() error { return e.Err }

// Fix rewrites t's column and partition-key types with rules, changing
// only the tokens a rule rewrites and keeping the rest of each type as the
// crawler or the user wrote it (hivetype.FixString). It returns
// the TableInput for UpdateTable and what changed, or a nil TableInput when
// nothing needs fixing: the fixer's own update fires another change event,
// which must end here without a call. t is not modified.
func Fix(t *types.Table, rules hivetype.Rules) (*types.TableInput, []Change, error) {
	var changes []Change
	var columns []types.Column
	if t.StorageDescriptor != nil {
		var err error
		columns, changes, err = fixColumns(t.StorageDescriptor.Columns, InColumns, rules, changes)
		if err != nil {
			return nil, nil, err
		}
	}
	keys, changes, err := fixColumns(t.PartitionKeys, InPartitionKeys, rules, changes)
	if err != nil {
		return nil, nil, err
	}
	if len(changes) == 0 {
		return nil, nil, nil
	}
	in := tableInput(t)
	if columns != nil {
		sd := *in.StorageDescriptor
		sd.Columns = columns
		in.StorageDescriptor = &sd
	}
	if keys != nil {
		in.PartitionKeys = keys
	}
	return in, changes, nil
}

// fixColumns returns a fixed copy of cols, or nil when no type changed.
func fixColumns(cols []types.Column, in string, rules hivetype.Rules, changes []Change) ([]types.Column, []Change, error) {
	var out []types.Column // copied on the first change
	for i, c := range cols {
		from := aws.ToString(c.Type)
		if from == "" {
			continue // a column without a type has nothing to fix
		}
		to, changed, err := hivetype.FixString(from, rules)
		if err != nil {
			return nil, nil, &ColumnError{Column: aws.ToString(c.Name), In: in, Err: err}
		}
		if !changed {
			continue
		}
		if out == nil {
			out = append([]types.Column(nil), cols...)
		}
		out[i].Type = aws.String(to)
		changes = append(changes, Change{Column: aws.ToString(c.Name), In: in, From: from, To: to})
	}
	return out, changes, nil
}

// tableInput copies the fields UpdateTable accepts from a table GetTable
// returned. The rest (DatabaseName, CatalogId, CreateTime, UpdateTime,
// VersionId, CreatedBy, IsRegisteredWithLakeFormation, Status, ...) are
// read-only and UpdateTable rejects or ignores them; TestTableInputCopiesEveryField
// fails when the SDK adds a TableInput field this function does not handle.
func tableInput(t *types.Table) *types.TableInput {
	return &types.TableInput{
		Name:              t.Name,
		Description:       t.Description,
		FederatedTable:    t.FederatedTable,
		LastAccessTime:    t.LastAccessTime,
		LastAnalyzedTime:  t.LastAnalyzedTime,
		Owner:             t.Owner,
		Parameters:        t.Parameters,
		PartitionKeys:     t.PartitionKeys,
		Retention:         t.Retention,
		StorageDescriptor: t.StorageDescriptor,
		TableType:         t.TableType,
		TargetTable:       t.TargetTable,
		ViewDefinition:    viewDefinitionInput(t.ViewDefinition),
		ViewExpandedText:  t.ViewExpandedText,
		ViewOriginalText:  t.ViewOriginalText,
	}
}

// viewDefinitionInput converts a Data Catalog view's definition, which
// GetTable returns as a ViewDefinition, to the ViewDefinitionInput
// UpdateTable takes; the representations' IsStale is read-only.
func viewDefinitionInput(v *types.ViewDefinition) *types.ViewDefinitionInput {
	if v == nil {
		return nil
	}
	in := &types.ViewDefinitionInput{
		Definer:              v.Definer,
		IsManaged:            v.IsManaged,
		IsProtected:          v.IsProtected,
		LastRefreshType:      v.LastRefreshType,
		RefreshSeconds:       v.RefreshSeconds,
		SparkPipelineInfo:    v.SparkPipelineInfo,
		SubObjectVersionIds:  v.SubObjectVersionIds,
		SubObjects:           v.SubObjects,
		SubObjectsStatistics: v.SubObjectsStatistics,
		ViewVersionId:        v.ViewVersionId,
		ViewVersionToken:     v.ViewVersionToken,
	}
	for _, r := range v.Representations {
		in.Representations = append(in.Representations, types.ViewRepresentationInput{
			Dialect:              r.Dialect,
			DialectVersion:       r.DialectVersion,
			ValidationConnection: r.ValidationConnection,
			ViewExpandedText:     r.ViewExpandedText,
			ViewOriginalText:     r.ViewOriginalText,
		})
	}
	return in
}
