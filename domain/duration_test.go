package domain

import (
	"errors"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "90m", want: 90 * time.Minute},
		{in: "2h", want: 2 * time.Hour},
		{in: "3d", want: 72 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "12h1d", want: 36 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "2d30m15s", want: 48*time.Hour + 30*time.Minute + 15*time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: " 24h ", want: 24 * time.Hour},
		{in: "0", want: 0},
		{in: "0d", want: 0},
		{in: "-1d", want: -24 * time.Hour},
		{in: "+2d", want: 48 * time.Hour},
		{in: "500ms", want: 500 * time.Millisecond},
		{in: "", wantErr: true},
		{in: "d", wantErr: true},
		{in: "3", wantErr: true},
		{in: "3x", wantErr: true},
		{in: "3 d", wantErr: true},
		{in: "1d-2h", wantErr: true},
		{in: "1.2.3d", wantErr: true},
		{in: "-", wantErr: true},
		{in: "3D", wantErr: true},
		{in: "two days", wantErr: true},
		{in: "200000d", wantErr: true},
		{in: "106752d", wantErr: true},
		{in: "106751d24h", wantErr: true},
		{in: "106751d23h", want: 2562047 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidDuration) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want an ErrInvalidDuration", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{72 * time.Hour, "72h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h0m1s"},
		{50 * time.Second, "50s"},
		{2 * time.Minute, "2m"},
		{0, "0s"},
		{500 * time.Millisecond, "500ms"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := ParseDuration(FormatDuration(tt.in))
		if err != nil || back != tt.in {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v; want it back", tt.in, back, err)
		}
	}
}
