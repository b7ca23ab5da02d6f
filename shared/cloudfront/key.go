package cloudfront

import (
	"strings"

	"lakestream/shared/record"
)

// Names of the fields a log read from S3 gets from its file's key.
const (
	FieldDistributionID = "distribution_id"
	FieldFileName       = "file_name"
)

// KeyColumns are the columns of the fields KeyFields adds, after a
// Parser's own: a table over logs read from S3 has both.
func KeyColumns() record.Columns {
	return record.Columns{
		{Name: FieldDistributionID, Type: record.String},
		{Name: FieldFileName, Type: record.String},
	}
}

// KeyFields returns the fields a standard log file's S3 key tells about
// each of its lines: the distribution that served them and the file's own
// name. CloudFront names every file it delivers
// <prefix>/<distribution-id>.YYYY-MM-DD-HH.<unique>.gz; a name of another
// shape (a file someone renamed) has a null distribution_id and still its
// file_name, so a line can always be traced back to its file.
func KeyFields(key string) []record.Field {
	name := key[strings.LastIndexByte(key, '/')+1:]
	var id any
	parts := strings.Split(name, ".")
	if len(parts) >= 3 && isDistributionID(parts[0]) && isLogHour(parts[1]) {
		id = parts[0]
	}
	var file any
	if name != "" {
		file = name
	}
	return []record.Field{{Name: FieldDistributionID, Value: id}, {Name: FieldFileName, Value: file}}
}

// isDistributionID reports whether s looks like a distribution ID:
// upper-case letters and digits ("E2EXAMPLE3P2QZ").
func isDistributionID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// isLogHour reports whether s is the YYYY-MM-DD-HH of a log file's name.
func isLogHour(s string) bool {
	if len(s) != len("2006-01-02-15") {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 4, 7, 10:
			if s[i] != '-' {
				return false
			}
		default:
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
	}
	return true
}
