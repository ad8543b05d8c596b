package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/mfabot/mfabot/internal/detect"
)

// config is mfabot.yml. Tokens never live here: they come from the
// environment.
type config struct {
	Detection detect.Config `yaml:"detection"`
	Store     struct {
		Path string `yaml:"path"`
	} `yaml:"store"`
}

// defaultConfig is what an empty file means.
func defaultConfig() config {
	return config{Detection: detect.DefaultConfig()}
}

// loadConfig reads a configuration file over the defaults. A missing file
// is an error only when required. Every problem is reported at once, each
// with its key.
func loadConfig(path string, required bool) (config, error) {
	cfg := defaultConfig()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF and means the defaults.
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if err := cfg.Detection.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: detection: %w", path, err)
	}
	return cfg, nil
}

