# Turns a text file into a C function returning it as one string literal.
BEGIN { print "/* generated from config/rollguard.yaml; do not edit */"
        print "const char *cfg_default_yaml(void);"
        print "const char *cfg_default_yaml(void)\n{\n    return" }
{
    gsub(/\\/, "\\\\"); gsub(/"/, "\\\"")
    print "        \"" $0 "\\n\""
}
END { print "        ;\n}" }
