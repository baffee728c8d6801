/*
 * Multiboot1 ELF guests: parse, check placement, load. See guest_elf.h for
 * the contract.
 *
 * References: System V ABI gABI, chapter 4 "Object Files" (ELF header,
 * e_ident) and chapter 5 "Program Loading" (program header); Multiboot 0.6.96
 * §3.1 (OS image format). Fields are read byte by byte as little-endian: the
 * module is only as aligned as the boot loader placed it, and EI_DATA is
 * checked to be ELFDATA2LSB before any multi-byte field is believed.
 *
 * Every sum of two file-controlled values goes through add_overflows(), every
 * range is compared as [start, end) with end computed once, checked.
 */
#include "hv/guest_elf.h"

#include <string.h>
#include "lib/format.h"

#define FOUR_GIB 0x100000000ull

/* gABI "ELF Identification" */
#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PN_XNUM 0xFFFFu /* gABI: the real e_phnum is in section header 0; no sane guest needs it */

/* gABI "ELF Header": sizes and field offsets of Elf32_Ehdr / Elf64_Ehdr. */
#define ELF32_EHDR_SIZE 52
#define ELF64_EHDR_SIZE 64
#define EHDR_TYPE 16    /* same in both classes */
#define EHDR_MACHINE 18 /* same in both classes */
#define EHDR_VERSION 20 /* same in both classes */
#define EHDR_ENTRY 24   /* same offset, 4 or 8 bytes */
#define ELF32_EHDR_PHOFF 28
#define ELF32_EHDR_PHENTSIZE 42
#define ELF32_EHDR_PHNUM 44
#define ELF64_EHDR_PHOFF 32
#define ELF64_EHDR_PHENTSIZE 54
#define ELF64_EHDR_PHNUM 56

/* gABI "Program Header": Elf32_Phdr / Elf64_Phdr (p_flags moves in ELF64). */
#define ELF32_PHDR_SIZE 32
#define ELF32_PHDR_TYPE 0
#define ELF32_PHDR_OFFSET 4
#define ELF32_PHDR_VADDR 8
#define ELF32_PHDR_PADDR 12
#define ELF32_PHDR_FILESZ 16
#define ELF32_PHDR_MEMSZ 20
#define ELF64_PHDR_SIZE 56
#define ELF64_PHDR_TYPE 0
#define ELF64_PHDR_OFFSET 8
#define ELF64_PHDR_VADDR 16
#define ELF64_PHDR_PADDR 24
#define ELF64_PHDR_FILESZ 32
#define ELF64_PHDR_MEMSZ 40

/* Multiboot 0.6.96 §3.1.1-§3.1.3 */
#define MULTIBOOT1_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT1_SEARCH_LIMIT 8192u
#define MULTIBOOT1_HEADER_MIN_SIZE 12u /* magic, flags, checksum */
#define MULTIBOOT1_FLAG_VIDEO_MODE (1u << 2)
/* Requirement bits vigil honours: 0 (page-align modules: vigil passes none,
 * and will page-align them when it does) and 1 (memory information: always
 * given). Any other bit in 0-15 must make the loader fail (§3.1.2). */
#define MULTIBOOT1_REQUIRED_MASK 0x0000FFFFu
#define MULTIBOOT1_SUPPORTED_REQUIRED 0x00000003u

/* ---- one-line error text, bounded, no printf in a freestanding build ---- */

struct error_text {
    char *buffer;
    size_t size;
    size_t length;
};

static void error_start(struct error_text *error, char *buffer, size_t size)
{
    error->buffer = buffer;
    error->size = buffer != NULL ? size : 0;
    error->length = 0;
    if (error->size > 0)
        error->buffer[0] = '\0';
}

static void error_text(struct error_text *error, const char *text)
{
    while (*text != '\0' && error->length + 1 < error->size)
        error->buffer[error->length++] = *text++;
    if (error->size > 0)
        error->buffer[error->length] = '\0';
}

static void error_number(struct error_text *error, uint64_t value, unsigned base)
{
    char text[24];
    format_string(text, sizeof text, base == 16 ? "0x%llx" : "%llu", (unsigned long long)value);
    error_text(error, text);
}

static void error_hex(struct error_text *error, uint64_t value)
{
    error_number(error, value, 16);
}

static void error_decimal(struct error_text *error, uint64_t value)
{
    error_number(error, value, 10);
}

/* "segment N: " — N is the program header index, which readelf -l also shows. */
static void error_segment(struct error_text *error, unsigned index)
{
    error_text(error, "segment ");
    error_decimal(error, index);
    error_text(error, ": ");
}

/* "[0xstart, 0xend)" */
static void error_range(struct error_text *error, uint64_t start, uint64_t end)
{
    error_text(error, "[");
    error_hex(error, start);
    error_text(error, ", ");
    error_hex(error, end);
    error_text(error, ")");
}

/* ---- arithmetic on hostile values ---- */

static bool add_overflows(uint64_t a, uint64_t b, uint64_t *sum)
{
    return __builtin_add_overflow(a, b, sum);
}

static bool ranges_overlap(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end)
{
    return a_start < b_end && b_start < a_end;
}

/* ---- little-endian field access; callers have bounded offset + width ---- */

static uint16_t read_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t read_u64(const uint8_t *p)
{
    return (uint64_t)read_u32(p) | (uint64_t)read_u32(p + 4) << 32;
}

/* A word of the class's natural width (Elf32_Addr/Off vs Elf64_Addr/Off/Xword). */
static uint64_t read_word(const uint8_t *p, bool elf64)
{
    return elf64 ? read_u64(p) : read_u32(p);
}

/* ---- parse ---- */

struct program_header {
    uint32_t type;
    uint64_t offset, virtual_address, physical_address, file_size, memory_size;
};

static void read_program_header(const uint8_t *p, bool elf64, struct program_header *header)
{
    if (elf64) {
        header->type = read_u32(p + ELF64_PHDR_TYPE);
        header->offset = read_u64(p + ELF64_PHDR_OFFSET);
        header->virtual_address = read_u64(p + ELF64_PHDR_VADDR);
        header->physical_address = read_u64(p + ELF64_PHDR_PADDR);
        header->file_size = read_u64(p + ELF64_PHDR_FILESZ);
        header->memory_size = read_u64(p + ELF64_PHDR_MEMSZ);
    } else {
        header->type = read_u32(p + ELF32_PHDR_TYPE);
        header->offset = read_u32(p + ELF32_PHDR_OFFSET);
        header->virtual_address = read_u32(p + ELF32_PHDR_VADDR);
        header->physical_address = read_u32(p + ELF32_PHDR_PADDR);
        header->file_size = read_u32(p + ELF32_PHDR_FILESZ);
        header->memory_size = read_u32(p + ELF32_PHDR_MEMSZ);
    }
}

/* Multiboot 0.6.96 §3.1.1: the header lies wholly within the first 8192
 * bytes, 32-bit aligned; §3.1.2: magic + flags + checksum == 0 (mod 2^32).
 * Like GRUB, a magic with a bad checksum is skipped, not fatal: the bytes
 * 0x1BADB002 may occur by chance before the real header. */
static enum guest_elf_status find_multiboot1_header(const uint8_t *file, size_t file_size,
                                                    struct guest_image *image, struct error_text *error)
{
    size_t limit = file_size < MULTIBOOT1_SEARCH_LIMIT ? file_size : MULTIBOOT1_SEARCH_LIMIT;
    bool bad_checksum_seen = false;
    size_t bad_checksum_offset = 0;
    for (size_t offset = 0; limit >= MULTIBOOT1_HEADER_MIN_SIZE && offset <= limit - MULTIBOOT1_HEADER_MIN_SIZE;
         offset += 4) {
        uint32_t magic = read_u32(file + offset);
        if (magic != MULTIBOOT1_HEADER_MAGIC)
            continue;
        uint32_t flags = read_u32(file + offset + 4);
        uint32_t checksum = read_u32(file + offset + 8);
        if ((uint32_t)(magic + flags + checksum) != 0) {
            if (!bad_checksum_seen) {
                bad_checksum_seen = true;
                bad_checksum_offset = offset;
            }
            continue;
        }
        image->has_multiboot1_header = true;
        image->multiboot1_flags = flags;
        uint32_t unsupported = flags & MULTIBOOT1_REQUIRED_MASK & ~MULTIBOOT1_SUPPORTED_REQUIRED;
        if (unsupported != 0) {
            error_text(error, "multiboot header at ");
            error_hex(error, offset);
            error_text(error, ": flags ");
            error_hex(error, flags);
            error_text(error, (unsupported & MULTIBOOT1_FLAG_VIDEO_MODE) != 0
                                  ? " require a video mode, which vigil does not set (unsupported bits "
                                  : " require features vigil does not implement (unsupported bits ");
            error_hex(error, unsupported);
            error_text(error, ")");
            return GUEST_ELF_MULTIBOOT_FLAGS_UNSUPPORTED;
        }
        return GUEST_ELF_OK;
    }
    if (bad_checksum_seen) {
        error_text(error, "multiboot magic at ");
        error_hex(error, bad_checksum_offset);
        error_text(error, " has a bad checksum, and no valid header follows in the first 8192 bytes");
    } else {
        error_text(error, "no multiboot1 header (magic 0x1badb002, 4-byte aligned) in the first 8192 bytes");
    }
    return GUEST_ELF_NO_MULTIBOOT_HEADER;
}

/* e_ident, e_type, e_machine, e_version. Sets *elf64 on success. */
static enum guest_elf_status check_elf_header(const uint8_t *file, size_t file_size, bool *elf64,
                                              struct error_text *error)
{
    if (file == NULL || file_size < EI_NIDENT) {
        error_text(error, "module is ");
        error_decimal(error, file == NULL ? 0 : file_size);
        error_text(error, " bytes, shorter than an ELF identification (16 bytes)");
        return GUEST_ELF_TOO_SMALL;
    }
    if (file[0] != 0x7F || file[1] != 'E' || file[2] != 'L' || file[3] != 'F') {
        error_text(error, "not an ELF file: first bytes are not 7f 45 4c 46 (\\x7fELF)");
        return GUEST_ELF_BAD_MAGIC;
    }
    if (file[EI_CLASS] != ELFCLASS32 && file[EI_CLASS] != ELFCLASS64) {
        error_text(error, "ELF class ");
        error_decimal(error, file[EI_CLASS]);
        error_text(error, " is neither 1 (ELF32) nor 2 (ELF64)");
        return GUEST_ELF_UNSUPPORTED_CLASS;
    }
    *elf64 = file[EI_CLASS] == ELFCLASS64;
    size_t header_size = *elf64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE;
    if (file_size < header_size) {
        error_text(error, "module is ");
        error_decimal(error, file_size);
        error_text(error, " bytes, shorter than an ELF");
        error_text(error, *elf64 ? "64" : "32");
        error_text(error, " header (");
        error_decimal(error, header_size);
        error_text(error, " bytes)");
        return GUEST_ELF_TOO_SMALL;
    }
    if (file[EI_DATA] != ELFDATA2LSB) {
        error_text(error, "ELF data encoding ");
        error_decimal(error, file[EI_DATA]);
        error_text(error, " is not 1 (little-endian, as x86 is)");
        return GUEST_ELF_NOT_LITTLE_ENDIAN;
    }
    uint32_t version = read_u32(file + EHDR_VERSION);
    if (file[EI_VERSION] != EV_CURRENT || version != EV_CURRENT) {
        error_text(error, "ELF version ");
        error_decimal(error, file[EI_VERSION]);
        error_text(error, "/");
        error_decimal(error, version);
        error_text(error, " (e_ident/e_version) is not 1 (EV_CURRENT)");
        return GUEST_ELF_BAD_MAGIC;
    }
    uint16_t type = read_u16(file + EHDR_TYPE);
    if (type != ET_EXEC) {
        error_text(error, "ELF type ");
        error_decimal(error, type);
        error_text(error, type == 3 ? " (ET_DYN, position-independent)" : "");
        error_text(error, " is not 2 (ET_EXEC): a multiboot guest is loaded at fixed addresses");
        return GUEST_ELF_NOT_EXECUTABLE;
    }
    uint16_t machine = read_u16(file + EHDR_MACHINE);
    uint16_t expected = *elf64 ? EM_X86_64 : EM_386;
    if (machine != expected) {
        error_text(error, "ELF machine ");
        error_decimal(error, machine);
        error_text(error, *elf64 ? " is not 62 (EM_X86_64) for an ELF64 file" : " is not 3 (EM_386) for an ELF32 file");
        return GUEST_ELF_WRONG_MACHINE;
    }
    return GUEST_ELF_OK;
}

enum guest_elf_status guest_elf_parse(const uint8_t *file, size_t file_size, struct guest_image *image,
                                      char *error_buffer, size_t error_size)
{
    struct error_text error;
    error_start(&error, error_buffer, error_size);
    memset(image, 0, sizeof(*image));

    bool elf64 = false;
    enum guest_elf_status status = check_elf_header(file, file_size, &elf64, &error);
    if (status != GUEST_ELF_OK)
        return status;
    image->elf64 = elf64;

    /* Program header table: exact entry size (a different one means a
     * different layout), wholly inside the file. */
    uint64_t phoff = read_word(file + (elf64 ? ELF64_EHDR_PHOFF : ELF32_EHDR_PHOFF), elf64);
    uint16_t phentsize = read_u16(file + (elf64 ? ELF64_EHDR_PHENTSIZE : ELF32_EHDR_PHENTSIZE));
    uint16_t phnum = read_u16(file + (elf64 ? ELF64_EHDR_PHNUM : ELF32_EHDR_PHNUM));
    uint16_t expected_phentsize = elf64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE;
    if (phentsize != expected_phentsize) {
        error_text(&error, "program header entry size ");
        error_decimal(&error, phentsize);
        error_text(&error, " is not ");
        error_decimal(&error, expected_phentsize);
        return GUEST_ELF_BAD_PROGRAM_HEADERS;
    }
    if (phnum == 0) {
        error_text(&error, "no program headers: nothing to load");
        return GUEST_ELF_NO_SEGMENTS;
    }
    if (phnum == PN_XNUM) {
        error_text(&error, "program header count 0xffff (PN_XNUM, extended numbering) is not supported");
        return GUEST_ELF_BAD_PROGRAM_HEADERS;
    }
    uint64_t table_size = (uint64_t)phnum * phentsize; /* <= 0xfffe * 56: cannot overflow */
    uint64_t table_end;
    if (add_overflows(phoff, table_size, &table_end) || table_end > file_size) {
        error_text(&error, "program header table ");
        error_hex(&error, phoff);
        error_text(&error, "+");
        error_hex(&error, table_size);
        error_text(&error, " past end of module (");
        error_hex(&error, file_size);
        error_text(&error, " bytes)");
        return GUEST_ELF_BAD_PROGRAM_HEADERS;
    }

    uint64_t virtual_addresses[GUEST_SEGMENT_MAX];
    unsigned header_indices[GUEST_SEGMENT_MAX];
    for (unsigned index = 0; index < phnum; index++) {
        struct program_header header;
        read_program_header(file + phoff + (uint64_t)index * phentsize, elf64, &header);
        if (header.type != PT_LOAD)
            continue;
        if (header.memory_size < header.file_size) {
            error_segment(&error, index);
            error_text(&error, "memory size ");
            error_hex(&error, header.memory_size);
            error_text(&error, " smaller than file size ");
            error_hex(&error, header.file_size);
            return GUEST_ELF_SEGMENT_SIZE_INVALID;
        }
        if (header.memory_size == 0)
            continue; /* gABI allows empty PT_LOADs; nothing to place */
        uint64_t file_end;
        if (header.file_size > 0 &&
            (add_overflows(header.offset, header.file_size, &file_end) || file_end > file_size)) {
            error_segment(&error, index);
            error_text(&error, "file range ");
            error_hex(&error, header.offset);
            error_text(&error, "+");
            error_hex(&error, header.file_size);
            error_text(&error, " past end of module (");
            error_hex(&error, file_size);
            error_text(&error, " bytes)");
            return GUEST_ELF_SEGMENT_OUTSIDE_FILE;
        }
        uint64_t memory_end;
        if (add_overflows(header.physical_address, header.memory_size, &memory_end) || memory_end > FOUR_GIB) {
            error_segment(&error, index);
            error_text(&error, "physical range ");
            error_hex(&error, header.physical_address);
            error_text(&error, "+");
            error_hex(&error, header.memory_size);
            error_text(&error, " ends above 4 GiB: a multiboot1 guest starts in 32-bit mode");
            return GUEST_ELF_ADDRESS_TOO_HIGH;
        }
        if (image->segment_count == GUEST_SEGMENT_MAX) {
            error_segment(&error, index);
            error_text(&error, "more than ");
            error_decimal(&error, GUEST_SEGMENT_MAX);
            error_text(&error, " loadable segments");
            return GUEST_ELF_TOO_MANY_SEGMENTS;
        }
        unsigned slot = image->segment_count++;
        image->segments[slot] = (struct guest_segment){
            .physical_address = header.physical_address,
            .file_offset = header.offset,
            .file_size = header.file_size,
            .memory_size = header.memory_size,
        };
        virtual_addresses[slot] = header.virtual_address;
        header_indices[slot] = index;
    }
    if (image->segment_count == 0) {
        error_text(&error, "no PT_LOAD segment with a non-zero memory size");
        return GUEST_ELF_NO_SEGMENTS;
    }

    /* Two segments writing the same bytes: the later would silently clobber
     * the earlier. At most 16 segments, so pairwise is fine. */
    image->lowest_address = UINT64_MAX;
    for (unsigned a = 0; a < image->segment_count; a++) {
        const struct guest_segment *first = &image->segments[a];
        uint64_t first_end = first->physical_address + first->memory_size; /* checked above */
        for (unsigned b = a + 1; b < image->segment_count; b++) {
            const struct guest_segment *second = &image->segments[b];
            uint64_t second_end = second->physical_address + second->memory_size;
            if (ranges_overlap(first->physical_address, first_end, second->physical_address, second_end)) {
                error_segment(&error, header_indices[b]);
                error_text(&error, "physical range ");
                error_range(&error, second->physical_address, second_end);
                error_text(&error, " overlaps segment ");
                error_decimal(&error, header_indices[a]);
                error_text(&error, " ");
                error_range(&error, first->physical_address, first_end);
                return GUEST_ELF_SEGMENTS_OVERLAP;
            }
        }
        if (first->physical_address < image->lowest_address)
            image->lowest_address = first->physical_address;
        if (first_end > image->highest_address_end)
            image->highest_address_end = first_end;
    }

    /* e_entry is virtual; translate it through the segment that maps it, as
     * GRUB's multiboot ELF loader does, so a higher-half kernel starts at the
     * physical copy of its entry code. */
    uint64_t virtual_entry = read_word(file + EHDR_ENTRY, elf64);
    bool entry_found = false;
    for (unsigned slot = 0; slot < image->segment_count && !entry_found; slot++) {
        uint64_t virtual_start = virtual_addresses[slot];
        if (virtual_entry >= virtual_start && virtual_entry - virtual_start < image->segments[slot].memory_size) {
            /* < physical_address + memory_size <= 4 GiB: no overflow */
            image->entry = image->segments[slot].physical_address + (virtual_entry - virtual_start);
            entry_found = true;
        }
    }
    if (!entry_found) {
        error_text(&error, "entry point ");
        error_hex(&error, virtual_entry);
        error_text(&error, " is in no loaded segment");
        return GUEST_ELF_ENTRY_OUTSIDE_SEGMENTS;
    }
    if (image->entry >= FOUR_GIB) { /* unreachable after the segment checks; kept as the stated invariant */
        error_text(&error, "entry point ");
        error_hex(&error, image->entry);
        error_text(&error, " is above 4 GiB");
        return GUEST_ELF_ADDRESS_TOO_HIGH;
    }

    return find_multiboot1_header(file, file_size, image, &error);
}

const char *guest_elf_status_name(enum guest_elf_status status)
{
    switch (status) {
    case GUEST_ELF_OK: return "ok";
    case GUEST_ELF_TOO_SMALL: return "too-small";
    case GUEST_ELF_BAD_MAGIC: return "bad-magic";
    case GUEST_ELF_UNSUPPORTED_CLASS: return "unsupported-class";
    case GUEST_ELF_NOT_LITTLE_ENDIAN: return "not-little-endian";
    case GUEST_ELF_NOT_EXECUTABLE: return "not-executable";
    case GUEST_ELF_WRONG_MACHINE: return "wrong-machine";
    case GUEST_ELF_BAD_PROGRAM_HEADERS: return "bad-program-headers";
    case GUEST_ELF_SEGMENT_OUTSIDE_FILE: return "segment-outside-file";
    case GUEST_ELF_SEGMENT_SIZE_INVALID: return "segment-size-invalid";
    case GUEST_ELF_TOO_MANY_SEGMENTS: return "too-many-segments";
    case GUEST_ELF_NO_SEGMENTS: return "no-segments";
    case GUEST_ELF_SEGMENTS_OVERLAP: return "segments-overlap";
    case GUEST_ELF_ENTRY_OUTSIDE_SEGMENTS: return "entry-outside-segments";
    case GUEST_ELF_ADDRESS_TOO_HIGH: return "address-too-high";
    case GUEST_ELF_NO_MULTIBOOT_HEADER: return "no-multiboot-header";
    case GUEST_ELF_MULTIBOOT_FLAGS_UNSUPPORTED: return "multiboot-flags-unsupported";
    }
    return "unknown";
}

/* ---- placement ---- */

/* memmap_add clamps wrapping entries, but the map may have been filled by
 * hand: saturate rather than wrap. */
static uint64_t map_entry_end(const struct memmap_entry *entry)
{
    uint64_t end;
    return add_overflows(entry->base, entry->length, &end) ? UINT64_MAX : end;
}

static enum guest_placement_status check_segment_in_ram(const struct memmap *map, unsigned index, uint64_t start,
                                                        uint64_t end, struct error_text *error)
{
    unsigned count = map->count < MEMMAP_MAX_ENTRIES ? map->count : MEMMAP_MAX_ENTRIES;
    /* The hypervisor first, whatever the entry order: that is the overlap an
     * operator most needs named. */
    for (unsigned pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < count; i++) {
            const struct memmap_entry *entry = &map->entries[i];
            bool hypervisor = entry->type == MEMMAP_HYPERVISOR;
            if (entry->length == 0 || entry->type == MEMMAP_RAM || hypervisor != (pass == 0))
                continue;
            uint64_t entry_end = map_entry_end(entry);
            if (!ranges_overlap(start, end, entry->base, entry_end))
                continue;
            error_segment(error, index);
            error_range(error, start, end);
            error_text(error, hypervisor ? " overlaps the hypervisor at " : " overlaps ");
            if (!hypervisor) {
                error_text(error, memmap_type_name(entry->type));
                error_text(error, " memory at ");
            }
            error_range(error, entry->base, entry_end);
            return hypervisor ? GUEST_PLACEMENT_OVERLAPS_HYPERVISOR : GUEST_PLACEMENT_NOT_IN_RAM;
        }
    }
    /* No non-RAM entry touches it; now every byte must be in some RAM entry
     * (holes in the map are not memory). The cursor strictly increases and
     * passes each entry's end once, so this ends within `count` steps. */
    uint64_t cursor = start;
    while (cursor < end) {
        uint64_t next = cursor;
        for (unsigned i = 0; i < count; i++) {
            const struct memmap_entry *entry = &map->entries[i];
            uint64_t entry_end = map_entry_end(entry);
            if (entry->type == MEMMAP_RAM && entry->base <= cursor && cursor < entry_end && entry_end > next)
                next = entry_end;
        }
        if (next == cursor) {
            error_segment(error, index);
            error_range(error, start, end);
            error_text(error, ": address ");
            error_hex(error, cursor);
            error_text(error, " is not in the memory map");
            return GUEST_PLACEMENT_NOT_IN_RAM;
        }
        cursor = next;
    }
    return GUEST_PLACEMENT_OK;
}

enum guest_placement_status guest_elf_check_placement(const struct guest_image *image, const struct memmap *map,
                                                      const struct address_range *avoid, unsigned avoid_count,
                                                      char *error_buffer, size_t error_size)
{
    struct error_text error;
    error_start(&error, error_buffer, error_size);
    if (avoid == NULL)
        avoid_count = 0;

    if (image->highest_address_end > FOUR_GIB) {
        error_text(&error, "image ends at ");
        error_hex(&error, image->highest_address_end);
        error_text(&error, ", above 4 GiB");
        return GUEST_PLACEMENT_TOO_HIGH;
    }
    unsigned segment_count = image->segment_count < GUEST_SEGMENT_MAX ? image->segment_count : GUEST_SEGMENT_MAX;
    for (unsigned index = 0; index < segment_count; index++) {
        const struct guest_segment *segment = &image->segments[index];
        uint64_t start = segment->physical_address, end;
        /* Re-checked: the image may not come straight from guest_elf_parse. */
        if (add_overflows(start, segment->memory_size, &end) || end > FOUR_GIB) {
            error_segment(&error, index);
            error_text(&error, "physical range ");
            error_hex(&error, start);
            error_text(&error, "+");
            error_hex(&error, segment->memory_size);
            error_text(&error, " ends above 4 GiB");
            return GUEST_PLACEMENT_TOO_HIGH;
        }
        if (start == end)
            continue;
        enum guest_placement_status status = check_segment_in_ram(map, index, start, end, &error);
        if (status != GUEST_PLACEMENT_OK)
            return status;
        for (unsigned a = 0; a < avoid_count; a++) {
            if (avoid[a].end <= avoid[a].start || !ranges_overlap(start, end, avoid[a].start, avoid[a].end))
                continue;
            error_segment(&error, index);
            error_range(&error, start, end);
            error_text(&error, " overlaps reserved range ");
            error_decimal(&error, a);
            error_text(&error, " ");
            error_range(&error, avoid[a].start, avoid[a].end);
            return GUEST_PLACEMENT_OVERLAPS_RESERVED_RANGE;
        }
    }
    return GUEST_PLACEMENT_OK;
}

const char *guest_placement_status_name(enum guest_placement_status status)
{
    switch (status) {
    case GUEST_PLACEMENT_OK: return "ok";
    case GUEST_PLACEMENT_NOT_IN_RAM: return "not-in-ram";
    case GUEST_PLACEMENT_OVERLAPS_HYPERVISOR: return "overlaps-hypervisor";
    case GUEST_PLACEMENT_OVERLAPS_RESERVED_RANGE: return "overlaps-reserved-range";
    case GUEST_PLACEMENT_TOO_HIGH: return "too-high";
    }
    return "unknown";
}

/* ---- load ---- */

bool guest_elf_load(const struct guest_image *image, const uint8_t *file, size_t file_size,
                    const struct guest_memory_writer *writer)
{
    if (writer == NULL || writer->pointer == NULL || image->segment_count > GUEST_SEGMENT_MAX)
        return false;
    for (unsigned index = 0; index < image->segment_count; index++) {
        const struct guest_segment *segment = &image->segments[index];
        uint64_t file_end, memory_end;
        /* The same bounds guest_elf_parse enforced: a stale or hand-made
         * image must not make us read past the module. */
        if (segment->file_size > segment->memory_size || segment->memory_size > SIZE_MAX ||
            add_overflows(segment->physical_address, segment->memory_size, &memory_end))
            return false;
        if (segment->file_size > 0 &&
            (file == NULL || add_overflows(segment->file_offset, segment->file_size, &file_end) ||
             file_end > file_size))
            return false;
        if (segment->memory_size == 0)
            continue;
        uint8_t *destination = writer->pointer(writer->context, segment->physical_address, segment->memory_size);
        if (destination == NULL)
            return false;
        /* memmove: placement keeps the module out of the segments, but if a
         * caller got that wrong the copy is still defined behaviour. */
        if (segment->file_size > 0)
            memmove(destination, file + segment->file_offset, (size_t)segment->file_size);
        memset(destination + segment->file_size, 0, (size_t)(segment->memory_size - segment->file_size));
    }
    return true;
}
