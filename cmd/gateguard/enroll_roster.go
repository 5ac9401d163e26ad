package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gateguard/gateguard/gate/faces"
)

// Who `gateguard enroll` enrols: photos and folders, a folder per person,
// a roster CSV.

// photosIn returns path if it is a file, or the files in it (sorted, not
// hidden) if it is a folder.
func photosIn(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(path, e.Name()))
		}
	}
	return out, nil
}

// roster reads a roster: a CSV file, or a folder with one folder per
// person (named by the person's id).
func roster(path string) ([]enrollee, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	if fi.IsDir() {
		return rosterFolder(path)
	}
	return rosterCSV(path)
}

func rosterFolder(dir string) ([]enrollee, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	var out []enrollee
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		photos, err := photosIn(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, enrollee{Person: faces.Person{ID: e.Name()}, photos: photos})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("enroll: %s has no folder per person", dir)
	}
	return out, nil
}

// rosterHeader is the roster CSV's first row; more photo columns may follow.
var rosterHeader = []string{"id", "name", "department", "photo"}

func rosterCSV(path string) ([]enrollee, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("enroll: roster %s: %w", path, err)
	}
	if len(rows) == 0 || len(rows[0]) < len(rosterHeader) || !headerOK(rows[0]) {
		return nil, fmt.Errorf("enroll: roster %s: the first row must be %s[,photo…]", path, strings.Join(rosterHeader, ","))
	}
	dir := filepath.Dir(path)
	var out []enrollee
	for i, row := range rows[1:] {
		if len(row) < len(rosterHeader) {
			return nil, fmt.Errorf("enroll: roster %s line %d: want id,name,department,photo[,photo…], got %d fields", path, i+2, len(row))
		}
		e := enrollee{Person: faces.Person{ID: strings.TrimSpace(row[0]), Name: row[1], Department: row[2]}}
		for _, cell := range row[3:] {
			for _, p := range strings.Split(cell, ";") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				if !filepath.IsAbs(p) {
					p = filepath.Join(dir, p)
				}
				e.photos = append(e.photos, p)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func headerOK(row []string) bool {
	for i, h := range rosterHeader {
		if !strings.EqualFold(strings.TrimSpace(row[i]), h) {
			return false
		}
	}
	return true
}
