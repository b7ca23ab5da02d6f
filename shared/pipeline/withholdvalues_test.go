package pipeline

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestWithholdValues: the quoted values of any error are withheld, the
// chain kept.
func TestWithholdValues(t *testing.T) {
	assert.NoError(t, WithholdValues(nil))
	cause := errors.New("bad")
	err := WithholdValues(fmt.Errorf(`attribute "card": invalid number "4111-1111": %w`, cause))
	assert.Equal(t, "attribute "+Withheld+": invalid number "+Withheld+": bad", err.Error())
	assert.ErrorIs(t, err, cause)
}
