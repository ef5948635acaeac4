# Bms2Intune: a thin PowerShell client of the bms2intune binary's JSON protocol (docs/protocol.md).
# No migration logic lives here: every decision is the binary's; this module turns PowerShell
# parameters into protocol requests and protocol events and results into PowerShell streams and
# typed objects.

$script:BmsModuleRoot = $PSScriptRoot

foreach ($folder in @('Private', 'Public')) {
    $files = @(Get-ChildItem -Path (Join-Path -Path $PSScriptRoot -ChildPath $folder) -Filter '*.ps1' -File | Sort-Object -Property Name)
    foreach ($file in $files) {
        . $file.FullName
    }
}

# Stop the session's rpc process when the module is removed (Remove-Module, or the session ends).
$ExecutionContext.SessionState.Module.OnRemove = {
    Close-BmsRpcSession
}

Export-ModuleMember -Function @(
    'Connect-BmsGraph'
    'ConvertTo-BmsIntunePolicy'
    'Export-BmsDevicePolicy'
    'Export-BmsWavePlan'
    'Get-BmsMigrationStatus'
    'Import-BmsTenantData'
    'Invoke-BmsMigrationStep'
    'Invoke-BmsMigrationWave'
    'New-BmsMigrationReport'
    'New-BmsWavePlan'
    'Test-BmsMigrationReadiness'
)
