#include "tcpbed/wire.h"

static const char *const err_names[] = {
#define NAME(name, text) #name,
    TB_WIRE_ERRORS(NAME)
#undef NAME
};
static const char *const err_texts[] = {
#define TEXT(name, text) text,
    TB_WIRE_ERRORS(TEXT)
#undef TEXT
};

const char *tb_wire_err_name(enum tb_wire_err err) {
    return (unsigned)err < TB_WIRE__COUNT ? err_names[err] : "UNKNOWN";
}
const char *tb_wire_err_text(enum tb_wire_err err) {
    return (unsigned)err < TB_WIRE__COUNT ? err_texts[err] : "unknown wire error";
}
