/* Shared by both halves of the EDL test (included through the EDL file). */
#ifndef EDL_TEST_COMMON_H
#define EDL_TEST_COMMON_H

/* What get_one() stores; host_fill() fills with EDL_TEST_FILL_BYTE. */
#define EDL_TEST_ONE       4242
#define EDL_TEST_FILL_BYTE 0x5a

#endif
