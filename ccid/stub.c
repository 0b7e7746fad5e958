typedef int vnp_stub_ccid;
