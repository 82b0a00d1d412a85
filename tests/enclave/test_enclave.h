/* Ecall and ocall numbers of the runtime's test enclave (test_enclave.c). */
#ifndef VOUCH_TEST_ENCLAVE_H
#define VOUCH_TEST_ENCLAVE_H

enum {
    TE_EMPTY = 0,
    TE_ECHO,
    TE_OCALL,
    TE_FORBIDDEN,
    TE_EXHAUST,
    TE_TOCTOU,
    TE_EVIDENCE,
    TE_SEAL,
    TE_UNSEAL,
    TE_RENDEZVOUS,
    TE_OVERFLOW,
    TE_IDENTITY,
    TE_INIT_RAN,
    TE__COUNT
};

/* Host functions the test registers (index = ocall number). */
enum {
    TE_OCALL_REVERSE = 0,  /* returns the input reversed */
    TE_OCALL_GATE = 1,     /* the TOCTOU test's host hook */
    TE_OCALL_OVERSIZE = 2, /* claims more output than offered */
    TE_OCALL__COUNT
};

#endif
