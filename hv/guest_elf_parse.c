/*
 * Multiboot1 ELF guests: the ELF header, the program headers and the Multiboot1
 * header, parsed defensively (see guest_elf.h; gABI chapters 4 and 5, Multiboot
 * 0.6.96 §3.1). Helpers: guest_elf_internal.h.
 */
#include <string.h>

#include "hv/guest_elf_internal.h"

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

/* ---- parse ---- */

struct program_header {
    uint32_t type;
    uint64_t offset, virtual_address, physical_address, file_size, memory_size;
};

static void read_program_header(const uint8_t *p, bool elf64, struct program_header *header)
{
    if (elf64) {
        header->type = elf_read_u32(p + ELF64_PHDR_TYPE);
        header->offset = elf_read_u64(p + ELF64_PHDR_OFFSET);
        header->virtual_address = elf_read_u64(p + ELF64_PHDR_VADDR);
        header->physical_address = elf_read_u64(p + ELF64_PHDR_PADDR);
        header->file_size = elf_read_u64(p + ELF64_PHDR_FILESZ);
        header->memory_size = elf_read_u64(p + ELF64_PHDR_MEMSZ);
    } else {
        header->type = elf_read_u32(p + ELF32_PHDR_TYPE);
        header->offset = elf_read_u32(p + ELF32_PHDR_OFFSET);
        header->virtual_address = elf_read_u32(p + ELF32_PHDR_VADDR);
        header->physical_address = elf_read_u32(p + ELF32_PHDR_PADDR);
        header->file_size = elf_read_u32(p + ELF32_PHDR_FILESZ);
        header->memory_size = elf_read_u32(p + ELF32_PHDR_MEMSZ);
    }
}

/* Multiboot 0.6.96 §3.1.1: the header lies wholly within the first 8192
 * bytes, 32-bit aligned; §3.1.2: magic + flags + checksum == 0 (mod 2^32).
 * Like GRUB, a magic with a bad checksum is skipped, not fatal: the bytes
 * 0x1BADB002 may occur by chance before the real header. */
static enum guest_elf_status find_multiboot1_header(const uint8_t *file, size_t file_size,
                                                    struct guest_image *image, struct text_builder *error)
{
    size_t limit = file_size < MULTIBOOT1_SEARCH_LIMIT ? file_size : MULTIBOOT1_SEARCH_LIMIT;
    bool bad_checksum_seen = false;
    size_t bad_checksum_offset = 0;
    for (size_t offset = 0; limit >= MULTIBOOT1_HEADER_MIN_SIZE && offset <= limit - MULTIBOOT1_HEADER_MIN_SIZE;
         offset += 4) {
        uint32_t magic = elf_read_u32(file + offset);
        if (magic != MULTIBOOT1_HEADER_MAGIC)
            continue;
        uint32_t flags = elf_read_u32(file + offset + 4);
        uint32_t checksum = elf_read_u32(file + offset + 8);
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
            text_builder_printf(error, "multiboot header at 0x%llx: flags 0x%llx",
                                (unsigned long long)offset, (unsigned long long)flags);
            text_builder_append(error, (unsupported & MULTIBOOT1_FLAG_VIDEO_MODE) != 0
                                  ? " require a video mode, which vigil does not set (unsupported bits "
                                  : " require features vigil does not implement (unsupported bits ");
            text_builder_printf(error, "0x%llx)", (unsigned long long)unsupported);
            return GUEST_ELF_MULTIBOOT_FLAGS_UNSUPPORTED;
        }
        return GUEST_ELF_OK;
    }
    if (bad_checksum_seen) {
        text_builder_printf(error, "multiboot magic at 0x%llx has a bad checksum, and no valid header follows in the first 8192 bytes",
                            (unsigned long long)bad_checksum_offset);
    } else {
        text_builder_append(error, "no multiboot1 header (magic 0x1badb002, 4-byte aligned) in the first 8192 bytes");
    }
    return GUEST_ELF_NO_MULTIBOOT_HEADER;
}

/* e_ident, e_type, e_machine, e_version. Sets *elf64 on success. */
static enum guest_elf_status check_elf_header(const uint8_t *file, size_t file_size, bool *elf64,
                                              struct text_builder *error)
{
    if (file == NULL || file_size < EI_NIDENT) {
        text_builder_printf(error, "module is %llu bytes, shorter than an ELF identification (16 bytes)",
                            (unsigned long long)(file == NULL ? 0 : file_size));
        return GUEST_ELF_TOO_SMALL;
    }
    if (file[0] != 0x7F || file[1] != 'E' || file[2] != 'L' || file[3] != 'F') {
        text_builder_append(error, "not an ELF file: first bytes are not 7f 45 4c 46 (\\x7fELF)");
        return GUEST_ELF_BAD_MAGIC;
    }
    if (file[EI_CLASS] != ELFCLASS32 && file[EI_CLASS] != ELFCLASS64) {
        text_builder_printf(error, "ELF class %llu is neither 1 (ELF32) nor 2 (ELF64)",
                            (unsigned long long)file[EI_CLASS]);
        return GUEST_ELF_UNSUPPORTED_CLASS;
    }
    *elf64 = file[EI_CLASS] == ELFCLASS64;
    size_t header_size = *elf64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE;
    if (file_size < header_size) {
        text_builder_printf(error, "module is %llu bytes, shorter than an ELF", (unsigned long long)file_size);
        text_builder_append(error, *elf64 ? "64" : "32");
        text_builder_printf(error, " header (%llu bytes)", (unsigned long long)header_size);
        return GUEST_ELF_TOO_SMALL;
    }
    if (file[EI_DATA] != ELFDATA2LSB) {
        text_builder_printf(error, "ELF data encoding %llu is not 1 (little-endian, as x86 is)",
                            (unsigned long long)file[EI_DATA]);
        return GUEST_ELF_NOT_LITTLE_ENDIAN;
    }
    uint32_t version = elf_read_u32(file + EHDR_VERSION);
    if (file[EI_VERSION] != EV_CURRENT || version != EV_CURRENT) {
        text_builder_printf(error, "ELF version %llu/%llu (e_ident/e_version) is not 1 (EV_CURRENT)",
                            (unsigned long long)file[EI_VERSION], (unsigned long long)version);
        return GUEST_ELF_BAD_MAGIC;
    }
    uint16_t type = elf_read_u16(file + EHDR_TYPE);
    if (type != ET_EXEC) {
        text_builder_printf(error, "ELF type %llu", (unsigned long long)type);
        text_builder_append(error, type == 3 ? " (ET_DYN, position-independent)" : "");
        text_builder_append(error, " is not 2 (ET_EXEC): a multiboot guest is loaded at fixed addresses");
        return GUEST_ELF_NOT_EXECUTABLE;
    }
    uint16_t machine = elf_read_u16(file + EHDR_MACHINE);
    uint16_t expected = *elf64 ? EM_X86_64 : EM_386;
    if (machine != expected) {
        text_builder_printf(error, "ELF machine %llu", (unsigned long long)machine);
        text_builder_append(error, *elf64 ? " is not 62 (EM_X86_64) for an ELF64 file" : " is not 3 (EM_386) for an ELF32 file");
        return GUEST_ELF_WRONG_MACHINE;
    }
    return GUEST_ELF_OK;
}

enum guest_elf_status guest_elf_parse(const uint8_t *file, size_t file_size, struct guest_image *image,
                                      char *error_buffer, size_t error_size)
{
    struct text_builder error;
    text_builder_start(&error, error_buffer, error_size);
    memset(image, 0, sizeof(*image));

    bool elf64 = false;
    enum guest_elf_status status = check_elf_header(file, file_size, &elf64, &error);
    if (status != GUEST_ELF_OK)
        return status;
    image->elf64 = elf64;

    /* Program header table: exact entry size (a different one means a
     * different layout), wholly inside the file. */
    uint64_t phoff = elf_read_word(file + (elf64 ? ELF64_EHDR_PHOFF : ELF32_EHDR_PHOFF), elf64);
    uint16_t phentsize = elf_read_u16(file + (elf64 ? ELF64_EHDR_PHENTSIZE : ELF32_EHDR_PHENTSIZE));
    uint16_t phnum = elf_read_u16(file + (elf64 ? ELF64_EHDR_PHNUM : ELF32_EHDR_PHNUM));
    uint16_t expected_phentsize = elf64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE;
    if (phentsize != expected_phentsize) {
        text_builder_printf(&error, "program header entry size %llu is not %llu",
                            (unsigned long long)phentsize, (unsigned long long)expected_phentsize);
        return GUEST_ELF_BAD_PROGRAM_HEADERS;
    }
    if (phnum == 0) {
        text_builder_append(&error, "no program headers: nothing to load");
        return GUEST_ELF_NO_SEGMENTS;
    }
    if (phnum == PN_XNUM) {
        text_builder_append(&error, "program header count 0xffff (PN_XNUM, extended numbering) is not supported");
        return GUEST_ELF_BAD_PROGRAM_HEADERS;
    }
    uint64_t table_size = (uint64_t)phnum * phentsize; /* <= 0xfffe * 56: cannot overflow */
    uint64_t table_end;
    if (elf_add_overflows(phoff, table_size, &table_end) || table_end > file_size) {
        text_builder_printf(&error, "program header table 0x%llx+0x%llx past end of module (0x%llx bytes)",
                            (unsigned long long)phoff, (unsigned long long)table_size, (unsigned long long)file_size);
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
            elf_error_segment(&error, index);
            text_builder_printf(&error, "memory size 0x%llx smaller than file size 0x%llx",
                                (unsigned long long)header.memory_size, (unsigned long long)header.file_size);
            return GUEST_ELF_SEGMENT_SIZE_INVALID;
        }
        if (header.memory_size == 0)
            continue; /* gABI allows empty PT_LOADs; nothing to place */
        uint64_t file_end;
        if (header.file_size > 0 &&
            (elf_add_overflows(header.offset, header.file_size, &file_end) || file_end > file_size)) {
            elf_error_segment(&error, index);
            text_builder_printf(&error, "file range 0x%llx+0x%llx past end of module (0x%llx bytes)",
                                (unsigned long long)header.offset, (unsigned long long)header.file_size, (unsigned long long)file_size);
            return GUEST_ELF_SEGMENT_OUTSIDE_FILE;
        }
        uint64_t memory_end;
        if (elf_add_overflows(header.physical_address, header.memory_size, &memory_end) || memory_end > FOUR_GIB) {
            elf_error_segment(&error, index);
            text_builder_printf(&error, "physical range 0x%llx+0x%llx ends above 4 GiB: a multiboot1 guest starts in 32-bit mode",
                                (unsigned long long)header.physical_address, (unsigned long long)header.memory_size);
            return GUEST_ELF_ADDRESS_TOO_HIGH;
        }
        if (image->segment_count == GUEST_SEGMENT_MAX) {
            elf_error_segment(&error, index);
            text_builder_printf(&error, "more than %llu loadable segments", (unsigned long long)GUEST_SEGMENT_MAX);
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
        text_builder_append(&error, "no PT_LOAD segment with a non-zero memory size");
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
            if (elf_ranges_overlap(first->physical_address, first_end, second->physical_address, second_end)) {
                elf_error_segment(&error, header_indices[b]);
                text_builder_append(&error, "physical range ");
                elf_error_range(&error, second->physical_address, second_end);
                text_builder_printf(&error, " overlaps segment %llu ", (unsigned long long)header_indices[a]);
                elf_error_range(&error, first->physical_address, first_end);
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
    uint64_t virtual_entry = elf_read_word(file + EHDR_ENTRY, elf64);
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
        text_builder_printf(&error, "entry point 0x%llx is in no loaded segment", (unsigned long long)virtual_entry);
        return GUEST_ELF_ENTRY_OUTSIDE_SEGMENTS;
    }
    if (image->entry >= FOUR_GIB) { /* unreachable after the segment checks; kept as the stated invariant */
        text_builder_printf(&error, "entry point 0x%llx is above 4 GiB", (unsigned long long)image->entry);
        return GUEST_ELF_ADDRESS_TOO_HIGH;
    }

    return find_multiboot1_header(file, file_size, image, &error);
}
