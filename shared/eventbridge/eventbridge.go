// Package eventbridge holds the details of the EventBridge events
// lakestream functions read: S3's "Object Created", Glue's crawler and Data
// Catalog state changes, and the names of their sources and detail types.
// aws-lambda-go has the envelope (events.EventBridgeEvent, whose Detail is
// the raw JSON these types decode) but not these details; they are declared
// here once, named as aws-lambda-go names its types (<Source><Thing>), with
// JSON tags as the services write them.
//
//	var d eventbridge.GlueCrawlerStateChangeDetail
//	err := json.Unmarshal(ev.Detail, &d)
package eventbridge

// Sources of the events lakestream reads, as in an event's "source".
const (
	SourceS3   = "aws.s3"
	SourceGlue = "aws.glue"
	// SourceSchedule is the source of a scheduled rule's events.
	SourceSchedule = "aws.events"
)

// Detail types of the events lakestream reads, as in an event's
// "detail-type".
const (
	// DetailTypeS3ObjectCreated is sent for every object created in a
	// bucket with EventBridge notifications on (PutObject, POST, CopyObject,
	// CompleteMultipartUpload).
	DetailTypeS3ObjectCreated = "Object Created"
	// DetailTypeScheduled is sent by a scheduled rule; its detail is {}.
	DetailTypeScheduled = "Scheduled Event"
	// DetailTypeGlueCrawlerStateChange is sent when a crawler starts,
	// succeeds or fails.
	DetailTypeGlueCrawlerStateChange = "Glue Crawler State Change"
	// DetailTypeGlueTableStateChange is sent for a change to one table:
	// UpdateTable (a crawler's or anyone's) and partition changes.
	DetailTypeGlueTableStateChange = "Glue Data Catalog Table State Change"
	// DetailTypeGlueDatabaseStateChange is sent for a change to the tables
	// of a database: a crawler creating or deleting tables reports them here.
	DetailTypeGlueDatabaseStateChange = "Glue Data Catalog Database State Change"
)

// S3ObjectCreatedDetail is the detail of an S3 "Object Created" event.
// Unlike in an S3 notification, the key is not URL-encoded.
type S3ObjectCreatedDetail struct {
	Version         string   `json:"version"`
	Bucket          S3Bucket `json:"bucket"`
	Object          S3Object `json:"object"`
	RequestID       string   `json:"request-id,omitempty"`
	Requester       string   `json:"requester,omitempty"`
	SourceIPAddress string   `json:"source-ip-address,omitempty"`
	// Reason is the call that created the object: PutObject, POST Object,
	// CopyObject or CompleteMultipartUpload.
	Reason string `json:"reason,omitempty"`
}

// S3Bucket is the bucket of an S3 event's detail.
type S3Bucket struct {
	Name string `json:"name"`
}

// S3Object is the object of an S3 event's detail.
type S3Object struct {
	// Key is the object key as it is, not URL-encoded.
	Key       string `json:"key"`
	Size      int64  `json:"size,omitempty"`
	ETag      string `json:"etag,omitempty"`
	VersionID string `json:"version-id,omitempty"`
	Sequencer string `json:"sequencer,omitempty"`
}

// GlueCrawlerState is a crawler's state in a crawler state change.
type GlueCrawlerState string

// The crawler states Glue reports.
const (
	GlueCrawlerStateStarted   GlueCrawlerState = "Started"
	GlueCrawlerStateSucceeded GlueCrawlerState = "Succeeded"
	GlueCrawlerStateFailed    GlueCrawlerState = "Failed"
)

// GlueCrawlerStateChangeDetail is the detail of a "Glue Crawler State
// Change" event. Glue sends its counts as strings ("tablesCreated": "0").
type GlueCrawlerStateChangeDetail struct {
	CrawlerName       string           `json:"crawlerName"`
	State             GlueCrawlerState `json:"state"`
	Message           string           `json:"message,omitempty"`
	AccountID         string           `json:"accountId,omitempty"`
	TablesCreated     string           `json:"tablesCreated,omitempty"`
	TablesUpdated     string           `json:"tablesUpdated,omitempty"`
	TablesDeleted     string           `json:"tablesDeleted,omitempty"`
	PartitionsCreated string           `json:"partitionsCreated,omitempty"`
	PartitionsUpdated string           `json:"partitionsUpdated,omitempty"`
	PartitionsDeleted string           `json:"partitionsDeleted,omitempty"`
	RunningTime       string           `json:"runningTime (sec),omitempty"`
	CompletionDate    string           `json:"completionDate,omitempty"`
	WarningMessage    string           `json:"warningMessage,omitempty"`
	ErrorMessage      string           `json:"errorMessage,omitempty"`
	CloudWatchLogLink string           `json:"cloudWatchLogLink,omitempty"`
}

// GlueTypeOfChange is what a Data Catalog state change did.
type GlueTypeOfChange string

// The changes a Data Catalog state change reports. A crawler creating a
// table reports CreateTable in a database state change; UpdateTable (the
// catalog fixer's own included) comes as a table state change.
const (
	GlueTypeOfChangeCreateTable          GlueTypeOfChange = "CreateTable"
	GlueTypeOfChangeUpdateTable          GlueTypeOfChange = "UpdateTable"
	GlueTypeOfChangeDeleteTable          GlueTypeOfChange = "DeleteTable"
	GlueTypeOfChangeCreatePartition      GlueTypeOfChange = "CreatePartition"
	GlueTypeOfChangeBatchCreatePartition GlueTypeOfChange = "BatchCreatePartition"
	GlueTypeOfChangeDeletePartition      GlueTypeOfChange = "DeletePartition"
)

// GlueTableStateChangeDetail is the detail of a "Glue Data Catalog Table
// State Change" event.
type GlueTableStateChangeDetail struct {
	DatabaseName string           `json:"databaseName"`
	TableName    string           `json:"tableName"`
	TypeOfChange GlueTypeOfChange `json:"typeOfChange"`
	// ChangedPartitions lists the partitions of a partition change, each
	// as its values ("[2024, 05]").
	ChangedPartitions []string `json:"changedPartitions,omitempty"`
}

// GlueDatabaseStateChangeDetail is the detail of a "Glue Data Catalog
// Database State Change" event.
type GlueDatabaseStateChangeDetail struct {
	DatabaseName  string           `json:"databaseName"`
	TypeOfChange  GlueTypeOfChange `json:"typeOfChange"`
	ChangedTables []string         `json:"changedTables,omitempty"`
}
