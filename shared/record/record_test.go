package record

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRecordKeepsOrder(t *testing.T) {
	r := New(4)
	r.Set("b", "1")
	r.Set("a", int64(2))
	r.Set("c", nil)
	r.Set("b", "replaced")
	assert.Equal(t, []Field{{"b", "replaced"}, {"a", int64(2)}, {"c", nil}}, r.Fields, "Set replaces in place")

	v, ok := r.Get("c")
	assert.True(t, ok, "a null field is present")
	assert.Nil(t, v)
	_, ok = r.Get("z")
	assert.False(t, ok)

	r.Delete("a")
	r.Delete("z")
	assert.Equal(t, []Field{{"b", "replaced"}, {"c", nil}}, r.Fields)
	assert.Equal(t, 2, r.Len())
}
