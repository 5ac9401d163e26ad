// Package mlx90640 drives the Melexis MLX90640 32×24 far-infrared thermal
// sensor over I²C (address 0x33) and computes each pixel's object temperature
// exactly as the datasheet's §11 describes: supply voltage, ambient
// temperature, gain, pixel offsets with Kta/Kv, the compensation pixel and
// thermal gradient compensation, emissivity and reflected temperature,
// sensitivity with KsTa and the four KsTo temperature ranges, for both
// subpages in chess and interleaved mode.
//
// Datasheet: https://www.melexis.com/en/documents/documentation/datasheets/datasheet-mlx90640
//
// The driver reads the EEPROM (0x2400–0x273F) once and never writes it. It
// writes only the control register 0x800D (refresh rate, chess or interleaved
// mode) and the status register 0x8000 (clearing the new-data bit). The EEPROM
// must be read at 400 kHz or less: open the bus at that speed (on a Raspberry
// Pi, dtparam=i2c_arm_baudrate=400000 in config.txt); frames can be read at up
// to 1 MHz, where one subpage takes about 15 ms, so refresh rates above 16 Hz
// need the faster bus.
package mlx90640
