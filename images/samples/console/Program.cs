// Smoke-test sample: a console app. The check expects exit 0 and "Hello World" on stdout.
using System;

public static class Program
{
    public static int Main()
    {
        Console.WriteLine("Hello World");
        Console.WriteLine("runtime " + Environment.Version);
        return 0;
    }
}
