package cloudfront

import (
	"bytes"
	"strings"
	"sync"
)

// other is the family of a user agent no rule matches.
const other = "Other"

// uaRule maps a token found in a user agent to a family.
type uaRule struct {
	token, family string
}

// browserRules are tried in order and the first match wins. Browsers name
// the engines they are built on too (Edge and Opera send "Chrome/", Chrome
// sends "Safari/", old Opera sends "MSIE"), so specific tokens come first.
var browserRules = []uaRule{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"OPiOS/", "Opera"}, {"Opera", "Opera"},
	{"Chrome/", "Chrome"}, {"CriOS/", "Chrome"}, {"Chromium/", "Chrome"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"MSIE ", "IE"}, {"Trident/", "IE"},
	{"Safari/", "Safari"},
	{"curl/", "curl"},
}

// osRules are tried in order and the first match wins: iOS user agents say
// "like Mac OS X" and Android ones "Linux", so those come later.
var osRules = []uaRule{
	{"Windows", "Windows"},
	{"iPhone", "iOS"}, {"iPad", "iOS"}, {"iPod", "iOS"},
	{"Android", "Android"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Linux", "Linux"},
}

// botTokens, in lower case, mark crawlers in a user agent of any case. Most
// robots say bot, crawler or spider (Googlebot, bingbot, Baiduspider); the
// rest are the well-known ones that do not.
var botTokens = [][]byte{
	[]byte("bot"), []byte("crawl"), []byte("spider"), []byte("slurp"),
	[]byte("facebookexternalhit"), []byte("mediapartners-google"), []byte("ia_archiver"),
}

// UserAgent classifies a user agent: its browser family (Chrome, Firefox,
// Safari, Edge, Opera, IE, curl or Other), its OS family (Windows, macOS,
// iOS, Android, Linux or Other) and whether it is a bot (a crawler, spider
// or other known robot). It is a small table-driven heuristic for dashboards
// and filters, not a device database: Chromium-based browsers without a rule
// of their own count as Chrome.
func UserAgent(ua string) (browser, os string, bot bool) {
	return match(ua, browserRules), match(ua, osRules), isBot(ua)
}

func match(ua string, rules []uaRule) string {
	for _, r := range rules {
		if strings.Contains(ua, r.token) {
			return r.family
		}
	}
	return other
}

func isBot(ua string) bool {
	// Lower-case into a stack buffer: user agents are rarely longer.
	var stack [512]byte
	lower := stack[:0]
	if len(ua) > len(stack) {
		lower = make([]byte, 0, len(ua))
	}
	for i := 0; i < len(ua); i++ {
		c := ua[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower = append(lower, c)
	}
	for _, t := range botTokens {
		if bytes.Contains(lower, t) {
			return true
		}
	}
	return false
}

// agentClass is what UserAgent makes of a user agent, as field values.
type agentClass struct {
	browser, os, bot any
}

// maxAgents bounds the user agents an agentCache remembers; a stream
// with more distinct ones starts over.
const maxAgents = 4096

// agentCache remembers the classes of user agents seen: a site's traffic
// comes from a few hundred distinct agents, and classifying one (dozens of
// substring searches) cost a CloudFront line a tenth of its time.
type agentCache struct {
	mu      sync.Mutex
	classes map[string]agentClass
}

// classify returns ua's class, from the cache when it has it.
func (c *agentCache) classify(ua string) agentClass {
	c.mu.Lock()
	class, ok := c.classes[ua]
	c.mu.Unlock()
	if ok {
		return class
	}
	b, o, bot := UserAgent(ua)
	class = agentClass{browser: b, os: o, bot: bot} // boxed once per agent
	c.mu.Lock()
	if c.classes == nil || len(c.classes) >= maxAgents {
		c.classes = make(map[string]agentClass)
	}
	// A copy: ua may be held by a record's arena, which the cache must
	// not keep alive.
	c.classes[strings.Clone(ua)] = class
	c.mu.Unlock()
	return class
}
