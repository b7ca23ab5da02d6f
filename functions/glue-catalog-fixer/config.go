package main

import (
	"slices"
	"strings"
	"time"

	"lakestream/shared/config"
	"lakestream/shared/hivetype"
	"lakestream/shared/retry"
)

// Config is the fixer's settings, read once at start-up.
type Config struct {
	// Databases whose tables are fixed when Glue reports them created or
	// updated (DATABASES).
	Databases []string
	// Crawlers whose successful runs trigger a fix of every table in the
	// crawler's database (CRAWLERS).
	Crawlers []string
	// Rules rewrite set<T> as array<T>, plus the TYPE_MAPPING rules.
	Rules hivetype.Rules
	// SkipArchive is UpdateTable's SkipArchive (SKIP_ARCHIVE): by default
	// Glue keeps the replaced version, so a fix can be rolled back.
	SkipArchive bool
	// Retry bounds the re-read and retry after a ConcurrentModificationException
	// (UPDATE_ATTEMPTS attempts in all).
	Retry retry.Policy
}

// loadConfig reads the fixer's variables; problems are recorded in env.
func loadConfig(env *config.Env) Config {
	c := Config{
		Databases:   env.List("DATABASES"),
		Crawlers:    env.List("CRAWLERS"),
		SkipArchive: env.Bool("SKIP_ARCHIVE", false),
		Retry: retry.Policy{
			MaxAttempts: env.Int("UPDATE_ATTEMPTS", 5, 1, 20),
			Base:        200 * time.Millisecond,
			Max:         2 * time.Second,
		},
	}
	if len(c.Databases) == 0 && len(c.Crawlers) == 0 {
		env.Fail("DATABASES", "", "a comma-separated list of the Glue databases whose tables to fix (or set CRAWLERS)")
	}
	spec := hivetype.DefaultSpec
	mapping := env.String("TYPE_MAPPING", "")
	if mapping != "" {
		spec += "," + mapping
	}
	rules, err := hivetype.ParseRules(spec)
	if err != nil {
		env.Fail("TYPE_MAPPING", mapping, `comma-separated from=to primitive type rewrites such as "tinyint=smallint,float=double" (`+err.Error()+")")
		rules, _ = hivetype.ParseRules(hivetype.DefaultSpec)
	}
	c.Rules = rules
	return c
}

// fixesDatabase reports whether tables of db are the fixer's to fix. Glue
// database names are lower case; configuration may not be.
func (c Config) fixesDatabase(db string) bool {
	return slices.ContainsFunc(c.Databases, func(d string) bool { return strings.EqualFold(d, db) })
}

func (c Config) sweepsCrawler(name string) bool {
	return slices.Contains(c.Crawlers, name)
}
