package pipeline

// WithholdValues returns err with every quoted value of its message
// replaced by Withheld, as the stages word an error raised before
// MASK_FIELDS ran; errors.Is and errors.As still see the chain. A source
// that reads its records itself before they reach the stages (the
// DynamoDB-stream forwarder converting stream records) words its own
// errors with it when fields are masked, so that no value a mask would
// have hidden reaches the log. nil stays nil.
func WithholdValues(err error) error {
	if err == nil {
		return nil
	}
	return &withheldError{err: err}
}
