/*
 * Runtime of the vigil test guests: COM2 console, printf, command line, GDT/IDT
 * with a fixup table for instructions expected to fault, checked MSR/CR4/VMX
 * instructions, ACPI power off, and the string functions gcc may call.
 */
#include "guest_runtime.h"

#include <stdarg.h>
#include <string.h>

#include "arch/x86_64/port_io.h"
#include "drivers/acpi/acpi_power.h"
#include "drivers/acpi/acpi_tables.h"
#include "lib/format.h"

/* ---- string functions (no libc: gcc may emit calls to these) ------------------ */

void *memcpy(void *restrict destination, const void *restrict source, size_t length)
{
    unsigned char *d = destination;
    const unsigned char *s = source;
    while (length--)
        *d++ = *s++;
    return destination;
}

void *memmove(void *destination, const void *source, size_t length)
{
    unsigned char *d = destination;
    const unsigned char *s = source;
    if (d < s) {
        while (length--)
            *d++ = *s++;
    } else {
        while (length--)
            d[length] = s[length];
    }
    return destination;
}

void *memset(void *destination, int value, size_t length)
{
    unsigned char *d = destination;
    while (length--)
        *d++ = (unsigned char)value;
    return destination;
}

int memcmp(const void *left, const void *right, size_t length)
{
    const unsigned char *a = left, *b = right;
    for (size_t i = 0; i < length; i++) {
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char *text)
{
    size_t length = 0;
    while (text[length])
        length++;
    return length;
}

/* ---- COM2 ----------------------------------------------------------------------- */

#define COM2 0x2F8
#define UART_DATA 0
#define UART_INTERRUPT_ENABLE 1
#define UART_DIVISOR_LOW 0
#define UART_DIVISOR_HIGH 1
#define UART_FIFO_CONTROL 2
#define UART_LINE_CONTROL 3
#define UART_MODEM_CONTROL 4
#define UART_LINE_STATUS 5
#define UART_LSR_THR_EMPTY 0x20
#define UART_LSR_TRANSMITTER_EMPTY 0x40
#define UART_SPIN_LIMIT 1000000u /* no UART (reads 0xFF) or a stuck one: never hang */

static void serial_init(void)
{
    port_out8(COM2 + UART_INTERRUPT_ENABLE, 0x00);
    port_out8(COM2 + UART_LINE_CONTROL, 0x80); /* DLAB */
    port_out8(COM2 + UART_DIVISOR_LOW, 1);     /* 115200 baud */
    port_out8(COM2 + UART_DIVISOR_HIGH, 0);
    port_out8(COM2 + UART_LINE_CONTROL, 0x03); /* 8N1 */
    port_out8(COM2 + UART_FIFO_CONTROL, 0xC7); /* enable and clear FIFOs, 14-byte trigger */
    port_out8(COM2 + UART_MODEM_CONTROL, 0x03); /* DTR, RTS; OUT2 off: no interrupts */
}

static void serial_wait(uint8_t status_bit)
{
    for (unsigned spin = 0; spin < UART_SPIN_LIMIT; spin++) {
        if (port_in8(COM2 + UART_LINE_STATUS) & status_bit)
            return;
        __asm__ volatile("pause");
    }
}

static void serial_put(char c)
{
    serial_wait(UART_LSR_THR_EMPTY);
    port_out8(COM2 + UART_DATA, (uint8_t)c);
}

static void serial_write(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '\n')
            serial_put('\r');
        serial_put(text[i]);
    }
}

void guest_print(const char *format, ...)
{
    char buffer[512];
    va_list arguments;
    va_start(arguments, format);
    int length = format_vstring(buffer, sizeof buffer, format, arguments);
    va_end(arguments);
    if (length < 0)
        return;
    if ((size_t)length >= sizeof buffer) {
        serial_write(buffer, sizeof buffer - 1);
        serial_write("...(truncated)\n", 15);
        return;
    }
    serial_write(buffer, (size_t)length);
}

void guest_print_flush(void)
{
    serial_wait(UART_LSR_TRANSMITTER_EMPTY);
}

/* ---- Multiboot info and command line --------------------------------------------- */

static const struct multiboot1_info *boot_info;

/* A pointer to physical memory (paging is off). The empty asm hides the constant
 * address from gcc's object-bounds analysis. */
static const void *physical(uint32_t address)
{
    uintptr_t pointer = address;
    __asm__("" : "+r"(pointer));
    return (const void *)pointer;
}

const struct multiboot1_info *guest_multiboot_info(void)
{
    return boot_info;
}

const char *guest_cmdline(void)
{
    if (!boot_info || !(boot_info->flags & MULTIBOOT1_INFO_CMDLINE) || boot_info->cmdline == 0)
        return "";
    return physical(boot_info->cmdline);
}

static bool parse_number(const char *text, size_t length, uint64_t *value)
{
    unsigned base = 10;
    if (length > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
        length -= 2;
    }
    if (length == 0 || length > (base == 16 ? 16u : 19u))
        return false;
    uint64_t result = 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        unsigned digit;
        if (c >= '0' && c <= '9')
            digit = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            digit = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            digit = (unsigned)(c - 'A' + 10);
        else
            return false;
        result = base == 16 ? (result << 4) | digit : result * 10 + digit;
    }
    *value = result;
    return true;
}

uint64_t guest_cmdline_number(const char *name, uint64_t fallback)
{
    const char *cursor = guest_cmdline();
    size_t name_length = strlen(name);
    while (*cursor) {
        while (*cursor == ' ' || *cursor == '\t')
            cursor++;
        const char *word = cursor;
        while (*cursor && *cursor != ' ' && *cursor != '\t')
            cursor++;
        size_t word_length = (size_t)(cursor - word);
        if (word_length > name_length && memcmp(word, name, name_length) == 0 && word[name_length] == '=') {
            uint64_t value;
            return parse_number(word + name_length + 1, word_length - name_length - 1, &value) ? value : fallback;
        }
    }
    return fallback;
}

/* ---- exceptions --------------------------------------------------------------------- */

struct exception_frame {
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax; /* pushal */
    uint32_t vector, error_code;
    uint32_t eip, cs, eflags; /* pushed by the CPU (same privilege: no ESP/SS) */
};

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attributes;
    uint16_t offset_high;
} __attribute__((packed));

#define EXCEPTION_VECTORS 32
#define CODE_SELECTOR 0x08
#define INTERRUPT_GATE_32 0x8E /* present, DPL 0, 32-bit interrupt gate */

extern const uint32_t guest_exception_stubs[EXCEPTION_VECTORS];
extern const struct guest_fixup_entry __guest_fixup_start[], __guest_fixup_end[];
static struct idt_gate idt[EXCEPTION_VECTORS] __attribute__((aligned(8)));

volatile int guest_fault_vector = GUEST_NO_FAULT;
volatile uint32_t guest_fault_error_code;

void guest_exception_dispatch(struct exception_frame *frame);
void guest_exception_dispatch(struct exception_frame *frame)
{
    for (const struct guest_fixup_entry *entry = __guest_fixup_start; entry < __guest_fixup_end; entry++) {
        if (entry->fault_eip == frame->eip) {
            guest_fault_vector = (int)frame->vector;
            guest_fault_error_code = frame->error_code;
            frame->eip = entry->resume_eip;
            return;
        }
    }
    guest_print("guest: unexpected exception %u at eip 0x%08x (error code 0x%x, eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x)\n",
                (unsigned)frame->vector, (unsigned)frame->eip, (unsigned)frame->error_code, (unsigned)frame->eax,
                (unsigned)frame->ebx, (unsigned)frame->ecx, (unsigned)frame->edx);
    guest_power_off();
}

static void idt_init(void)
{
    for (unsigned vector = 0; vector < EXCEPTION_VECTORS; vector++) {
        uint32_t handler = guest_exception_stubs[vector];
        idt[vector] = (struct idt_gate){
            .offset_low = (uint16_t)handler,
            .selector = CODE_SELECTOR,
            .zero = 0,
            .type_attributes = INTERRUPT_GATE_32,
            .offset_high = (uint16_t)(handler >> 16),
        };
    }
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } pointer = { sizeof idt - 1, (uint32_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(pointer) : "memory");
}

void guest_runtime_init(uint32_t magic, uint32_t info)
{
    serial_init();
    idt_init();
    if (magic == MULTIBOOT1_BOOTLOADER_MAGIC)
        boot_info = physical(info);
    else
        guest_print("guest: warning: not booted by a Multiboot1 loader (eax 0x%08x)\n", (unsigned)magic);
}

/* ---- checked instructions ------------------------------------------------------------- */

int guest_rdmsr(uint32_t msr, uint64_t *value)
{
    uint32_t low = 0, high = 0;
    guest_fault_vector = GUEST_NO_FAULT;
    __asm__ volatile("1: rdmsr\n2:\n\t" GUEST_FIXUP(1b, 2b) : "+a"(low), "+d"(high) : "c"(msr) : "memory");
    *value = ((uint64_t)high << 32) | low;
    return guest_fault_vector;
}

int guest_wrmsr(uint32_t msr, uint64_t value)
{
    guest_fault_vector = GUEST_NO_FAULT;
    __asm__ volatile("1: wrmsr\n2:\n\t" GUEST_FIXUP(1b, 2b)
                     :
                     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
    return guest_fault_vector;
}

int guest_write_cr4(uint32_t value)
{
    guest_fault_vector = GUEST_NO_FAULT;
    __asm__ volatile("1: mov %0, %%cr4\n2:\n\t" GUEST_FIXUP(1b, 2b) : : "r"(value) : "memory");
    return guest_fault_vector;
}

int guest_vmxon(uint64_t physical_address_of_region)
{
    uint64_t operand = physical_address_of_region;
    guest_fault_vector = GUEST_NO_FAULT;
    /* A successful VMXON (it should never be) leaves VMX root: undo it with VMXOFF. */
    __asm__ volatile("1: vmxon %0\n\t"
                     "vmxoff\n"
                     "2:\n\t" GUEST_FIXUP(1b, 2b)
                     :
                     : "m"(operand)
                     : "memory", "cc");
    return guest_fault_vector;
}

int guest_vmcall_checked(uint32_t number, uint32_t argument, uint32_t *result)
{
    uint32_t eax = number;
    guest_fault_vector = GUEST_NO_FAULT;
    __asm__ volatile("1: vmcall\n2:\n\t" GUEST_FIXUP(1b, 2b) : "+a"(eax) : "b"(argument) : "memory");
    *result = eax;
    return guest_fault_vector;
}

/* ---- power off --------------------------------------------------------------------- */

#define QEMU_DEBUG_EXIT_PORT 0xF4

void guest_power_off(void)
{
    guest_print("guest: power off\n");
    guest_print_flush(); /* let the line leave before the machine stops */
    /* ACPI S5 (and Bochs' 0x8900 port) exactly as the hypervisor does it. */
    struct acpi_power_config config = { .debug_exit_port = 0 };
    acpi_power_read(0, &config);
    const char *failure = acpi_power_off(&config, 0);
    guest_print("guest: ACPI power off failed: %s; trying QEMU's isa-debug-exit port\n", failure);
    guest_print_flush();
    port_out32(QEMU_DEBUG_EXIT_PORT, 0);
    guest_print("guest: still running after every power-off method; halting\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}
