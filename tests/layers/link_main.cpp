// The main() of the link checks (CMakeLists.txt here): the program is only built, never
// run; linking it is the check.
int main() { return 0; }
