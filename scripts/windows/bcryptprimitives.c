/* bcryptprimitives.dll for Wine 8, which lacks it: Rust's standard library takes its random
 * bytes from ProcessPrng (Windows 10 and later), so every Rust program needs this DLL to
 * start. Placed beside a test's .exe only; real Windows has its own. It hands the request
 * to RtlGenRandom (advapi32's SystemFunction036), which Wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
