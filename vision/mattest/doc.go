// Package mattest fails a test binary that leaves gocv Mats open. Each vision
// package that holds Mats calls Main from its TestMain in a file built with
// the matprofile tag; `make test` runs ./vision/... with -tags matprofile.
// Without the tag the package is empty.
package mattest
