package cloudfront

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyFields(t *testing.T) {
	tests := map[string]struct {
		key          string
		id, fileName any
	}{
		"standard logging's name": {key: "cf-logs/E2EXAMPLE3P2QZ.2019-12-04-21.a1b2c3d4.gz", id: "E2EXAMPLE3P2QZ", fileName: "E2EXAMPLE3P2QZ.2019-12-04-21.a1b2c3d4.gz"},
		"no prefix":               {key: "EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz", id: "EMLARXS9EXAMPLE", fileName: "EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz"},
		"not gzipped":             {key: "a/b/E1.2024-05-01-13.x", id: "E1", fileName: "E1.2024-05-01-13.x"},
		"renamed file":            {key: "logs/access.log.gz", id: nil, fileName: "access.log.gz"},
		"lower-case id":           {key: "logs/e2example.2019-12-04-21.a.gz", id: nil, fileName: "e2example.2019-12-04-21.a.gz"},
		"bad hour":                {key: "logs/E2.2019-12-04.a.gz", id: nil, fileName: "E2.2019-12-04.a.gz"},
		"folder marker":           {key: "logs/", id: nil, fileName: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := KeyFields(tc.key)
			require.Len(t, got, 2)
			assert.Equal(t, FieldDistributionID, got[0].Name)
			assert.Equal(t, tc.id, got[0].Value)
			assert.Equal(t, FieldFileName, got[1].Name)
			assert.Equal(t, tc.fileName, got[1].Value)
		})
	}
	assert.Equal(t, []string{FieldDistributionID, FieldFileName}, KeyColumns().Names())
}
