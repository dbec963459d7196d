# The original module greets on import, and some scripts and transcripts look for the line.
# Everything else is in the nested MSCommerce.dll.
Write-Host 'MSCommerce module loaded'
