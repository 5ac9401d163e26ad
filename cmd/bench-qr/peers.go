package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"time"
)

// zbar decodes one image with zbarimg and returns its raw output: each
// payload followed by a newline. (Its XML output cannot be used: XML
// normalises the CR LF line ends that many payloads hold.)
func zbar(path string) ([]byte, error) {
	out, err := exec.Command("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", path).Output()
	if err != nil {
		// zbarimg exits 4 when it finds no symbol.
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 {
			return nil, fmt.Errorf("zbarimg %s: %w", path, err)
		}
	}
	return out, nil
}

// zbarHas reports whether zbarimg's raw output holds want as one whole
// payload: the output is payloads each ended by a newline, so want must
// start at the beginning or after a newline and end with one. A line of a
// multi-line payload therefore matches too: generous to zbar.
func zbarHas(out []byte, want string) bool {
	w := []byte(want + "\n")
	return bytes.HasPrefix(out, w) || bytes.Contains(out, append([]byte("\n"), w...))
}

// parseZXing splits ZXingReader's report into the payloads found per file.
// Each result is a block starting "File:" (with several files), whose
// "Text:" field holds the decoded text in double quotes, printed as is (it
// may span lines), followed by a "Bytes:" line.
func parseZXing(out []byte, files []string) map[string][]string {
	res := map[string][]string{}
	current := ""
	if len(files) == 1 {
		current = files[0]
	}
	const fileTag, textTag, end = "File:       ", "Text:       \"", "\"\nBytes:"
	rest := out
	for len(rest) > 0 {
		line, after, _ := bytes.Cut(rest, []byte("\n"))
		switch {
		case bytes.HasPrefix(line, []byte(fileTag)):
			current = string(bytes.TrimPrefix(line, []byte(fileTag)))
			rest = after
		case bytes.HasPrefix(line, []byte(textTag)):
			body := rest[len(textTag):]
			i := bytes.Index(body, []byte(end))
			if i < 0 {
				return res
			}
			res[current] = append(res[current], string(body[:i]))
			rest = body[i+2:]
		default:
			rest = after
		}
	}
	return res
}

// zxingBatch decodes all files in one ZXingReader process and returns the
// payloads per file and the wall time of the whole run.
func zxingBatch(files []string) (map[string][]string, time.Duration, error) {
	args := append([]string{"-format", "QRCode"}, files...)
	start := time.Now()
	out, err := exec.Command("ZXingReader", args...).Output()
	took := time.Since(start)
	// ZXingReader exits non-zero when some file had no code; its report
	// still covers every file.
	if _, ok := err.(*exec.ExitError); err != nil && (!ok || len(out) == 0) {
		return nil, took, fmt.Errorf("ZXingReader: %w", err)
	}
	return parseZXing(out, files), took, nil
}
