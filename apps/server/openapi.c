/* docs/openapi.yaml embedded in the binary (served at /api/openapi.yaml); the build runs from the repository
 * root, where the path resolves. */
__asm__(".section .rodata\n"
        ".global mf_srv_openapi_yaml\n"
        ".type mf_srv_openapi_yaml, @object\n"
        "mf_srv_openapi_yaml:\n"
        ".incbin \"docs/openapi.yaml\"\n"
        ".byte 0\n"
        ".previous\n");
