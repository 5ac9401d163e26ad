// Command conformance-mlx90640 checks the MLX90640 driver's temperature math
// against Melexis' reference vectors in a folder (default
// ../shared/testdata/mlx90640): the numbered frames, then every case its
// reference_cases.json lists. Its last line is "frames=F pixels=P
// max_err_c=E", the cases counted as frames; it exits 1 when the maximum error exceeds
// -max (0.001 °C by default).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gateguard/gateguard/device/thermal/mlx90640/conformance"
)

func main() {
	dir := flag.String("dir", "../shared/testdata/mlx90640", "folder with eeprom.hex, frameN.hex, to_frameN.csv and reference_cases.json")
	maxErr := flag.Float64("max", 0.001, "largest allowed error in °C")
	flag.Parse()
	res, err := conformance.Run(*dir, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if res.MaxErrC > *maxErr {
		fmt.Fprintf(os.Stderr, "worst: %s row %d column %d is off by %.6f °C (limit %g)\n",
			res.Worst.Name, res.Worst.Row, res.Worst.Col, res.MaxErrC, *maxErr)
	}
	fmt.Println(res)
	if res.MaxErrC > *maxErr {
		os.Exit(1)
	}
}
