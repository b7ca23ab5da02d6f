package ddbjson

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// appendNumber appends the DynamoDB number s as a JSON number: verbatim
// when it already is one (always, for numbers DynamoDB sends), else in the
// normalised form the package doc lists.
func appendNumber(dst []byte, s string) ([]byte, error) {
	if s == "" {
		return dst, &NumberError{Value: s, Reason: "empty"}
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
		return dst, &NumberError{Value: s, Reason: "no digits"}
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
			return dst, &NumberError{Value: s, Reason: "no digits in the exponent"}
		}
	}
	if i < len(s) {
		return dst, unexpected(s, i)
	}

	intPart := s[intStart:intEnd]
	isJSON := s[0] != '+' &&
		intPart != "" && (intPart[0] != '0' || len(intPart) == 1) &&
		(!point || fracEnd > fracStart)
	if isJSON {
		return append(dst, s...), nil
	}
	if s[0] == '-' {
		dst = append(dst, '-')
	}
	if intPart = strings.TrimLeft(intPart, "0"); intPart == "" {
		intPart = "0"
	}
	dst = append(dst, intPart...)
	if fracEnd > fracStart {
		dst = append(dst, '.')
		dst = append(dst, s[fracStart:fracEnd]...)
	}
	return append(dst, s[expStart:]...), nil
}

func skipDigits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

func unexpected(s string, i int) *NumberError {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return &NumberError{Value: s, Reason: fmt.Sprintf("unexpected %q at byte %d", r, i)}
}
