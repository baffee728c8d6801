/*
 * triple_fault: loads an empty IDT and raises #BP. Delivering #BP fails (#GP),
 * delivering that fails (#DF), and that fails too: a triple fault, which vigil
 * must catch (VM exit "triple fault") and report instead of resetting the machine.
 */
#include "runtime/guest_runtime.h"

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    guest_print("triple-fault: loading an empty IDT and raising #BP\n");
    guest_print_flush(); /* bare, the machine stops at once */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } empty_idt = { 0, 0 };
    __asm__ volatile("lidt %0\n\tint3" : : "m"(empty_idt) : "memory");
    guest_print("triple-fault: FAIL: still running\n");
}
