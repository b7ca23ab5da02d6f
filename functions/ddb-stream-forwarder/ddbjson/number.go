package ddbjson

import (
	"fmt"
	"unicode/utf8"
)

// text is the text of a number: a string from aws-lambda-go's types, or
// bytes a Transcoder read.
type text interface{ ~string | ~[]byte }

// appendNumber appends the DynamoDB number s as a JSON number: verbatim
// when it already is one (always, for numbers DynamoDB sends), else in the
// normalised form the package doc lists.
func appendNumber[T text](dst []byte, s T) ([]byte, error) {
	if len(s) == 0 {
		return dst, &NumberError{Value: "", Reason: "empty"}
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	intStart := i
	i = skipDigits(s, i)
	intEnd := i
	point := i < len(s) && s[i] == '.'
	if point {
		i++
	}
	fracStart := i
	i = skipDigits(s, i)
	fracEnd := i
	if intEnd == intStart && fracEnd == fracStart {
		if i < len(s) {
			return dst, unexpected(s, i)
		}
		return dst, &NumberError{Value: string(s), Reason: "no digits"}
	}
	expStart := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		digits := i
		if i = skipDigits(s, i); i == digits {
			if i < len(s) {
				return dst, unexpected(s, i)
			}
			return dst, &NumberError{Value: string(s), Reason: "no digits in the exponent"}
		}
	}
	if i < len(s) {
		return dst, unexpected(s, i)
	}

	intPart := s[intStart:intEnd]
	isJSON := s[0] != '+' &&
		len(intPart) > 0 && (intPart[0] != '0' || len(intPart) == 1) &&
		(!point || fracEnd > fracStart)
	if isJSON {
		return append(dst, s...), nil
	}
	if s[0] == '-' {
		dst = append(dst, '-')
	}
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	if len(intPart) == 0 {
		dst = append(dst, '0')
	}
	dst = append(dst, intPart...)
	if fracEnd > fracStart {
		dst = append(dst, '.')
		dst = append(dst, s[fracStart:fracEnd]...)
	}
	return append(dst, s[expStart:]...), nil
}

func skipDigits[T text](s T, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

func unexpected[T text](s T, i int) *NumberError {
	r, _ := utf8.DecodeRuneInString(string(s[i:]))
	return &NumberError{Value: string(s), Reason: fmt.Sprintf("unexpected %q at byte %d", r, i)}
}
