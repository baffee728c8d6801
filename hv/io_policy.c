#include "hv/io_policy.h"

#include "arch/x86_64/port_io.h"

#define PCI_CONFIG_ADDRESS_PORT 0xCF8
#define PCI_CONFIG_DATA_PORT 0xCFC
#define PCI_CONFIG_ENABLE (1u << 31)
#define PCI_FUNCTION_MASK 0x00FFFF00u
#define PCI_REGISTER_MASK 0xFCu
#define PCI_FUNCTION(bus, device, function) (((uint32_t)(bus) << 16) | ((uint32_t)(device) << 11) | ((uint32_t)(function) << 8))

bool io_access_overlaps(uint16_t port, unsigned size, uint16_t base, unsigned count)
{
    return count != 0 && (uint32_t)port < (uint32_t)base + count && (uint32_t)base < (uint32_t)port + size;
}

bool io_access_inside(uint16_t port, unsigned size, uint16_t base, unsigned count)
{
    return count != 0 && port >= base && (uint32_t)port + size <= (uint32_t)base + count;
}

bool i8042_command_resets(uint8_t command) { return (command & 0xF0) == 0xF0 && !(command & 1); }

bool i8042_command_refused(uint8_t command) { return command == 0xD1; }

static uint32_t config_read32(uint32_t function, uint8_t reg)
{
    port_out32(PCI_CONFIG_ADDRESS_PORT, PCI_CONFIG_ENABLE | function | (reg & PCI_REGISTER_MASK));
    return port_in32(PCI_CONFIG_DATA_PORT);
}

unsigned pci_find_protected_registers(struct pci_protected_register out[PCI_PROTECTED_MAX])
{
    unsigned count = 0;
    uint32_t piix4_pm = PCI_FUNCTION(0, 1, 3), lpc = PCI_FUNCTION(0, 0x1F, 0);
    if (config_read32(piix4_pm, 0) == 0x71138086u) {
        out[count++] = (struct pci_protected_register){ piix4_pm, 0x40, 0x43, "PIIX4 PM I/O base (PMBA)" };
        out[count++] = (struct pci_protected_register){ piix4_pm, 0x80, 0x80, "PIIX4 PM I/O enable (PMREGMISC)" };
    }
    if ((config_read32(lpc, 0) & 0xFFFF) == 0x8086 && (config_read32(lpc, 8) >> 16) == 0x0601) {
        out[count++] = (struct pci_protected_register){ lpc, 0x40, 0x43, "LPC ACPI PM I/O base (PMBASE)" };
        out[count++] = (struct pci_protected_register){ lpc, 0x44, 0x44, "LPC ACPI enable (ACPI_CNTL)" };
    }
    port_out32(PCI_CONFIG_ADDRESS_PORT, 0);
    return count;
}

const struct pci_protected_register *pci_write_refused(const struct pci_protected_register *list, unsigned count,
                                                       uint32_t config_address, unsigned port_offset, unsigned size)
{
    if (!(config_address & PCI_CONFIG_ENABLE))
        return 0;
    uint32_t function = config_address & PCI_FUNCTION_MASK;
    unsigned reg = (config_address & PCI_REGISTER_MASK) + port_offset;
    for (unsigned i = 0; i < count; i++)
        if (list[i].function == function && reg <= list[i].last && reg + size > list[i].first)
            return &list[i];
    return 0;
}
