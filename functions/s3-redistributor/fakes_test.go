package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// fakeObject is an object in fakeS3. Large objects have a size and no data.
type fakeObject struct {
	data            []byte
	size            int64
	etag            string
	contentType     string
	contentEncoding string
	metadata        map[string]string
	sse             types.ServerSideEncryption
	kmsKey          string
	modified        time.Time
}

// fakePart is one UploadPartCopy of a fake multipart upload.
type fakePart struct {
	src         string
	first, last int64
}

type fakeUpload struct {
	bucket, key string
	create      *s3.CreateMultipartUploadInput
	parts       map[int32]fakePart
	// initiated is wall-clock time, which the copier compares it with.
	initiated time.Time
}

// fakeS3 is an in-memory S3 holding just what the redistributor calls.
// fail, when set, may return an error for an operation on bucket/key
// before it runs; calls records every call as "Op bucket/key".
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string]*fakeObject
	uploads map[string]*fakeUpload
	clock   time.Time
	calls   []string
	copies  []*s3.CopyObjectInput
	fail    func(op, bucket, key string) error
	nextID  int
}

func newFakeS3() *fakeS3 {
	return &fakeS3{objects: map[string]*fakeObject{}, uploads: map[string]*fakeUpload{}, clock: time.Date(2024, 5, 1, 14, 0, 0, 0, time.UTC)}
}

// put stores an object with data, written at the fake's clock.
func (f *fakeS3) put(bucket, key string, data []byte, contentType string) *fakeObject {
	f.mu.Lock()
	defer f.mu.Unlock()
	sum := md5.Sum(data)
	o := &fakeObject{data: data, size: int64(len(data)), etag: `"` + hex.EncodeToString(sum[:]) + `"`, contentType: contentType, modified: f.tick()}
	f.objects[bucket+"/"+key] = o
	return o
}

// tick advances the clock by a second, so that every write is newer.
func (f *fakeS3) tick() time.Time {
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

func (f *fakeS3) object(bucket, key string) *fakeObject {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objects[bucket+"/"+key]
}

// count returns how many calls of op were made.
func (f *fakeS3) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, op+" ") {
			n++
		}
	}
	return n
}

// sortedCalls returns the calls in a stable order (objects are copied in
// parallel).
func (f *fakeS3) sortedCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.calls)
	slices.Sort(out)
	return out
}

func (f *fakeS3) record(op, bucket, key string) error {
	f.calls = append(f.calls, op+" "+bucket+"/"+key)
	if f.fail != nil {
		return f.fail(op, bucket, key)
	}
	return nil
}

func apiError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "injected " + code}
}

func (f *fakeS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("HeadObject", aws.ToString(in.Bucket), aws.ToString(in.Key)); err != nil {
		return nil, err
	}
	o, ok := f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, &types.NotFound{Message: aws.String("Not Found")}
	}
	out := &s3.HeadObjectOutput{
		ContentLength: aws.Int64(o.size), ETag: aws.String(o.etag), LastModified: aws.Time(o.modified),
		Metadata: o.metadata, ServerSideEncryption: o.sse,
	}
	if o.contentType != "" {
		out.ContentType = aws.String(o.contentType)
	}
	if o.contentEncoding != "" {
		out.ContentEncoding = aws.String(o.contentEncoding)
	}
	if o.kmsKey != "" {
		out.SSEKMSKeyId = aws.String(o.kmsKey)
	}
	return out, nil
}

// source finds the object a CopySource names.
func (f *fakeS3) source(copySource string) (string, *fakeObject, error) {
	decoded, err := url.PathUnescape(copySource)
	if err != nil {
		return "", nil, apiError("InvalidArgument")
	}
	o, ok := f.objects[decoded]
	if !ok {
		return decoded, nil, apiError("NoSuchKey")
	}
	return decoded, o, nil
}

func (f *fakeS3) CopyObject(_ context.Context, in *s3.CopyObjectInput, _ ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("CopyObject", aws.ToString(in.Bucket), aws.ToString(in.Key)); err != nil {
		return nil, err
	}
	f.copies = append(f.copies, in)
	_, src, err := f.source(aws.ToString(in.CopySource))
	if err != nil {
		return nil, err
	}
	if in.CopySourceIfMatch != nil && aws.ToString(in.CopySourceIfMatch) != src.etag {
		return nil, apiError("PreconditionFailed")
	}
	if src.size > maxCopyObjectSize {
		return nil, apiError("InvalidRequest")
	}
	if err := f.precondition(aws.ToString(in.Bucket), aws.ToString(in.Key), in.IfNoneMatch, in.IfMatch); err != nil {
		return nil, err
	}
	dst := *src
	if in.MetadataDirective == types.MetadataDirectiveReplace {
		dst.contentType, dst.contentEncoding, dst.metadata = aws.ToString(in.ContentType), aws.ToString(in.ContentEncoding), in.Metadata
	}
	dst.sse, dst.kmsKey = in.ServerSideEncryption, aws.ToString(in.SSEKMSKeyId)
	if dst.sse == types.ServerSideEncryptionAwsKms {
		dst.etag = `"kms-` + strings.Trim(src.etag, `"`) + `"`
	}
	dst.modified = f.tick()
	f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = &dst
	return &s3.CopyObjectOutput{CopyObjectResult: &types.CopyObjectResult{ETag: aws.String(dst.etag)}}, nil
}

// precondition is S3's check of a conditional write: IfNoneMatch "*"
// fails when the key exists, IfMatch when it holds another ETag.
func (f *fakeS3) precondition(bucket, key string, ifNoneMatch, ifMatch *string) error {
	o, exists := f.objects[bucket+"/"+key]
	switch {
	case aws.ToString(ifNoneMatch) == "*" && exists:
		return apiError("PreconditionFailed")
	case ifMatch != nil && (!exists || o.etag != aws.ToString(ifMatch)):
		return apiError("PreconditionFailed")
	}
	return nil
}

func (f *fakeS3) CreateMultipartUpload(_ context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("CreateMultipartUpload", aws.ToString(in.Bucket), aws.ToString(in.Key)); err != nil {
		return nil, err
	}
	f.nextID++
	id := "upload-" + strconv.Itoa(f.nextID)
	f.uploads[id] = &fakeUpload{bucket: aws.ToString(in.Bucket), key: aws.ToString(in.Key), create: in, parts: map[int32]fakePart{}, initiated: time.Now()}
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String(id)}, nil
}

func (f *fakeS3) UploadPartCopy(_ context.Context, in *s3.UploadPartCopyInput, _ ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("UploadPartCopy", aws.ToString(in.Bucket), aws.ToString(in.Key)); err != nil {
		return nil, err
	}
	up, ok := f.uploads[aws.ToString(in.UploadId)]
	if !ok {
		return nil, apiError("NoSuchUpload")
	}
	name, src, err := f.source(aws.ToString(in.CopySource))
	if err != nil {
		return nil, err
	}
	if in.CopySourceIfMatch != nil && aws.ToString(in.CopySourceIfMatch) != src.etag {
		return nil, apiError("PreconditionFailed")
	}
	var first, last int64
	if _, err := fmt.Sscanf(aws.ToString(in.CopySourceRange), "bytes=%d-%d", &first, &last); err != nil || first > last || last >= src.size {
		return nil, apiError("InvalidArgument")
	}
	n := aws.ToInt32(in.PartNumber)
	up.parts[n] = fakePart{src: name, first: first, last: last}
	return &s3.UploadPartCopyOutput{CopyPartResult: &types.CopyPartResult{ETag: aws.String(fmt.Sprintf(`"part-%d"`, n))}}, nil
}

func (f *fakeS3) CompleteMultipartUpload(_ context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("CompleteMultipartUpload", aws.ToString(in.Bucket), aws.ToString(in.Key)); err != nil {
		return nil, err
	}
	up, ok := f.uploads[aws.ToString(in.UploadId)]
	if !ok {
		return nil, apiError("NoSuchUpload")
	}
	// S3's checks: parts listed in ascending order, each uploaded with
	// the ETag given, every part but the last at least 5 MiB.
	var size int64
	var data []byte
	for i, p := range in.MultipartUpload.Parts {
		n := aws.ToInt32(p.PartNumber)
		part, ok := up.parts[n]
		if !ok || int(n) != i+1 || aws.ToString(p.ETag) != fmt.Sprintf(`"part-%d"`, n) {
			return nil, apiError("InvalidPart")
		}
		if length := part.last - part.first + 1; length < minPartSize && i < len(in.MultipartUpload.Parts)-1 {
			return nil, apiError("EntityTooSmall")
		}
		size += part.last - part.first + 1
		if src := f.objects[part.src]; src.data != nil {
			data = append(data, src.data[part.first:part.last+1]...)
		}
	}
	if err := f.precondition(up.bucket, up.key, in.IfNoneMatch, in.IfMatch); err != nil {
		return nil, err
	}
	c := up.create
	o := &fakeObject{
		data: data, size: size, etag: fmt.Sprintf(`"multipart-%d"`, len(in.MultipartUpload.Parts)),
		contentType: aws.ToString(c.ContentType), contentEncoding: aws.ToString(c.ContentEncoding), metadata: c.Metadata,
		sse: c.ServerSideEncryption, kmsKey: aws.ToString(c.SSEKMSKeyId), modified: f.tick(),
	}
	f.objects[up.bucket+"/"+up.key] = o
	delete(f.uploads, aws.ToString(in.UploadId))
	return &s3.CompleteMultipartUploadOutput{ETag: aws.String(o.etag)}, nil
}

func (f *fakeS3) AbortMultipartUpload(_ context.Context, in *s3.AbortMultipartUploadInput, _ ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("AbortMultipartUpload", aws.ToString(in.Bucket), aws.ToString(in.Key)); err != nil {
		return nil, err
	}
	delete(f.uploads, aws.ToString(in.UploadId))
	return &s3.AbortMultipartUploadOutput{}, nil
}

func (f *fakeS3) ListMultipartUploads(_ context.Context, in *s3.ListMultipartUploadsInput, _ ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ListMultipartUploads", aws.ToString(in.Bucket), aws.ToString(in.Prefix)); err != nil {
		return nil, err
	}
	out := &s3.ListMultipartUploadsOutput{Bucket: in.Bucket, Prefix: in.Prefix}
	for _, id := range slices.Sorted(maps.Keys(f.uploads)) {
		up := f.uploads[id]
		if up.bucket == aws.ToString(in.Bucket) && strings.HasPrefix(up.key, aws.ToString(in.Prefix)) {
			out.Uploads = append(out.Uploads, types.MultipartUpload{Key: aws.String(up.key), UploadId: aws.String(id), Initiated: aws.Time(up.initiated)})
		}
	}
	return out, nil
}

func (f *fakeS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("DeleteObject", aws.ToString(in.Bucket), aws.ToString(in.Key)); err != nil {
		return nil, err
	}
	delete(f.objects, aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key))
	return &s3.DeleteObjectOutput{}, nil
}

// fakeGlue is an in-memory Glue catalog. partitionError, when set, gives
// the error code BatchCreatePartition reports for a partition ("" for
// none); batchError fails a whole call.
type fakeGlue struct {
	mu             sync.Mutex
	tables         map[string]*gtypes.Table
	partitions     map[string]map[string]gtypes.PartitionInput
	getTables      int
	batches        []int
	partitionError func(table string, values []string) string
	batchError     func(call int) error
}

func newFakeGlue() *fakeGlue {
	return &fakeGlue{tables: map[string]*gtypes.Table{}, partitions: map[string]map[string]gtypes.PartitionInput{}}
}

// addTable creates db.name partitioned by keys, stored as JSON under location.
func (g *fakeGlue) addTable(db, name, location string, keys ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := &gtypes.Table{
		Name: aws.String(name), DatabaseName: aws.String(db),
		StorageDescriptor: &gtypes.StorageDescriptor{
			Columns:      []gtypes.Column{{Name: aws.String("event"), Type: aws.String("string")}},
			Location:     aws.String(location),
			InputFormat:  aws.String("org.apache.hadoop.mapred.TextInputFormat"),
			OutputFormat: aws.String("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
			SerdeInfo:    &gtypes.SerDeInfo{SerializationLibrary: aws.String("org.openx.data.jsonserde.JsonSerDe")},
		},
	}
	for _, k := range keys {
		t.PartitionKeys = append(t.PartitionKeys, gtypes.Column{Name: aws.String(k), Type: aws.String("string")})
	}
	g.tables[db+"."+name] = t
	g.partitions[db+"."+name] = map[string]gtypes.PartitionInput{}
}

// partitionList returns "db.table values -> location" for every partition, sorted.
func (g *fakeGlue) partitionList() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for table, parts := range g.partitions {
		for _, p := range parts {
			out = append(out, table+" "+strings.Join(p.Values, "/")+" -> "+aws.ToString(p.StorageDescriptor.Location))
		}
	}
	slices.Sort(out)
	return out
}

func (g *fakeGlue) GetTable(_ context.Context, in *glue.GetTableInput, _ ...func(*glue.Options)) (*glue.GetTableOutput, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.getTables++
	t, ok := g.tables[aws.ToString(in.DatabaseName)+"."+aws.ToString(in.Name)]
	if !ok {
		return nil, &gtypes.EntityNotFoundException{Message: aws.String("Table not found")}
	}
	return &glue.GetTableOutput{Table: t}, nil
}

func (g *fakeGlue) BatchCreatePartition(_ context.Context, in *glue.BatchCreatePartitionInput, _ ...func(*glue.Options)) (*glue.BatchCreatePartitionOutput, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.batches = append(g.batches, len(in.PartitionInputList))
	if g.batchError != nil {
		if err := g.batchError(len(g.batches)); err != nil {
			return nil, err
		}
	}
	if len(in.PartitionInputList) > maxPartitionsPerCall {
		return nil, &gtypes.InvalidInputException{Message: aws.String("too many partitions")}
	}
	table := aws.ToString(in.DatabaseName) + "." + aws.ToString(in.TableName)
	parts, ok := g.partitions[table]
	if !ok {
		return nil, &gtypes.EntityNotFoundException{Message: aws.String("Table not found")}
	}
	out := &glue.BatchCreatePartitionOutput{}
	for _, p := range in.PartitionInputList {
		code := ""
		if g.partitionError != nil {
			code = g.partitionError(table, p.Values)
		}
		id := strings.Join(p.Values, "\x00")
		if _, exists := parts[id]; exists && code == "" {
			code = codeAlreadyExists
		}
		if code != "" {
			out.Errors = append(out.Errors, gtypes.PartitionError{PartitionValues: p.Values, ErrorDetail: &gtypes.ErrorDetail{ErrorCode: aws.String(code), ErrorMessage: aws.String("injected")}})
			continue
		}
		parts[id] = p
	}
	return out, nil
}
