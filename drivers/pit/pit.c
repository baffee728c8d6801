#include "drivers/pit/pit.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/port_io.h"

#define PIT_CHANNEL2_DATA 0x42
#define PIT_COMMAND 0x43
#define PIT_GATE_PORT 0x61          /* NMI status and control: bit 0 gate 2, bit 1 speaker, bit 5 OUT2 */
#define GATE2_ENABLE 0x01
#define SPEAKER_ENABLE 0x02
#define OUT2_HIGH 0x20
#define CALIBRATION_MS 50u
#define POLL_LIMIT 100000000u

uint64_t pit_measure_tsc_frequency(void)
{
    uint16_t count = (uint16_t)(PIT_FREQUENCY_HZ * CALIBRATION_MS / 1000u);
    uint8_t gate = port_in8(PIT_GATE_PORT);
    /* Gate low and speaker off while programming; channel 2, lobyte/hibyte, mode 0
     * (interrupt on terminal count: OUT2 goes high when the count reaches zero). */
    port_out8(PIT_GATE_PORT, (uint8_t)(gate & ~(GATE2_ENABLE | SPEAKER_ENABLE)));
    port_out8(PIT_COMMAND, 0xB0);
    port_out8(PIT_CHANNEL2_DATA, (uint8_t)count);
    port_out8(PIT_CHANNEL2_DATA, (uint8_t)(count >> 8));

    port_out8(PIT_GATE_PORT, (uint8_t)((gate & ~SPEAKER_ENABLE) | GATE2_ENABLE));
    uint64_t start = cpu_read_tsc();
    uint32_t polls = 0;
    while (!(port_in8(PIT_GATE_PORT) & OUT2_HIGH)) {
        if (++polls > POLL_LIMIT) {
            port_out8(PIT_GATE_PORT, gate);
            return 0;
        }
    }
    uint64_t elapsed = cpu_read_tsc() - start;
    port_out8(PIT_GATE_PORT, gate);
    return elapsed * (1000u / CALIBRATION_MS);
}
