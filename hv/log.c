#include "hv/log.h"

#include <stdarg.h>
#include <string.h>

#include "boards/pc/board.h"
#include "lib/format.h"

#define LOG_LINE_MAX 512

static struct uart16550 fallback_console;
static struct uart16550 *console;
static enum log_level current_level = LOG_INFO;

static struct uart16550 *active_console(void)
{
    if (!console) {
        /* Before the command line chose a port (or after a failure parsing it):
         * COM1 at 115200, which every board here wires to the operator. */
        uart16550_init(&fallback_console, &uart16550_port_io, BOARD_PC_COM1_PORT, BOARD_PC_CONSOLE_BAUD_DEFAULT);
        console = &fallback_console;
    }
    return console;
}

void log_attach_console(struct uart16550 *attached) { console = attached; }
struct uart16550 *log_console(void) { return active_console(); }
void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }

/* Buffered output (log_set_buffered): a ring drained into the UART's FIFO by
 * log_drain from the timer, so no VM exit waits for the serial line. When the
 * ring is full the oldest byte is written out synchronously: output is slowed,
 * never lost. */
#define LOG_RING_SIZE 65536u
static char ring[LOG_RING_SIZE];
static size_t ring_head, ring_tail; /* head: next byte to send; tail: next free slot */
static bool buffered;

static size_t ring_used(void) { return ring_tail - ring_head; }

static void ring_push(char c)
{
    if (ring_used() == LOG_RING_SIZE)
        uart16550_putc(active_console(), ring[ring_head++ % LOG_RING_SIZE]);
    ring[ring_tail++ % LOG_RING_SIZE] = c;
}

void log_write(const char *text, size_t length)
{
    if (!buffered) {
        uart16550_write(active_console(), text, length);
        return;
    }
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '\n')
            ring_push('\r');
        ring_push(text[i]);
    }
}

bool log_drain(void)
{
    struct uart16550 *uart = active_console();
    unsigned room = ring_used() ? uart16550_transmit_room(uart) : 0;
    while (room-- > 0 && ring_used())
        uart16550_put_now(uart, ring[ring_head++ % LOG_RING_SIZE]);
    return ring_used() != 0;
}

void log_flush(void)
{
    struct uart16550 *uart = active_console();
    while (ring_used())
        uart16550_putc(uart, ring[ring_head++ % LOG_RING_SIZE]);
}

void log_set_buffered(bool enabled)
{
    if (!enabled)
        log_flush();
    buffered = enabled;
}

static void write_formatted(const char *prefix, const char *format, va_list arguments, int add_newline)
{
    char line[LOG_LINE_MAX];
    size_t used = strlen(prefix);
    memcpy(line, prefix, used);
    int wanted = format_vstring(line + used, sizeof line - used, format, arguments);
    if (wanted < 0)
        wanted = 0;
    used += (size_t)wanted;
    if (used >= sizeof line - 1) {
        /* Truncated: say so rather than cut a word silently. */
        used = sizeof line - 5;
        memcpy(line + used, "...\n", 4);
        used += 4;
        add_newline = 0;
    }
    if (add_newline)
        line[used++] = '\n';
    log_write(line, used);
}

void log_raw_printf(const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    write_formatted("", format, arguments, 0);
    va_end(arguments);
}

void log_message(enum log_level level, const char *format, ...)
{
    static const char *const prefixes[] = {
        [LOG_ERROR] = "vigil: error: ", [LOG_WARN] = "vigil: warning: ", [LOG_INFO] = "vigil: ",
        [LOG_DEBUG] = "vigil: debug: ", [LOG_TRACE] = "vigil: trace: ",
    };
    if (level > current_level)
        return;
    va_list arguments;
    va_start(arguments, format);
    write_formatted(prefixes[level], format, arguments, 1);
    va_end(arguments);
}
